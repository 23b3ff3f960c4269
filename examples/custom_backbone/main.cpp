// The seqrl command line, with this project's backbones registered beside the built-in ones.
#include "cli/command.h"

int main(int argc, char** argv) { return seqrl::cli::run(argc, argv); }
