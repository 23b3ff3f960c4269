// seqrl: one executable; the commands live in the seqrl_cli library (cli/app.cpp).
#include "cli/command.h"

int main(int argc, char** argv) { return seqrl::cli::run(argc, argv); }
