// Hopper MJCF with the parameters of Gym's hopper.xml (v2/v3/v4; source: openai/gym 0.18.0,
// gym/envs/mujoco/assets/hopper.xml). Raw string: the library carries its own model.
// Gym writes this model in global coordinates; here every position is given relative to its
// parent body so the file also loads in MuJoCo versions without coordinate="global". The
// body frames sit where Gym's compiler puts them (torso z 1.25, thigh 1.05, leg 0.35, foot
// x 0.13 z 0), so the compiled model is the same. Angles in degrees; visual-only elements
// are left out.
#pragma once

namespace seqrl::assets {

inline constexpr char kHopperXml[] = R"xml(
<mujoco model="hopper">
  <compiler angle="degree" coordinate="local" inertiafromgeom="true"/>
  <option integrator="RK4" timestep="0.002"/>
  <default>
    <joint limited="true" armature="1" damping="1"/>
    <geom contype="1" conaffinity="1" condim="1" margin="0.001" solimp="0.8 0.8 0.01" solref="0.02 1"/>
    <motor ctrllimited="true" ctrlrange="-0.4 0.4"/>
  </default>
  <worldbody>
    <geom name="floor" type="plane" conaffinity="1" condim="3" pos="0 0 0" size="20 20 0.125"/>
    <body name="torso" pos="0 0 1.25">
      <joint name="rootx" type="slide" axis="1 0 0" pos="0 0 -1.25" limited="false" armature="0" damping="0" stiffness="0"/>
      <joint name="rootz" type="slide" axis="0 0 1" pos="0 0 -1.25" ref="1.25" limited="false" armature="0" damping="0" stiffness="0"/>
      <joint name="rooty" type="hinge" axis="0 1 0" pos="0 0 0" limited="false" armature="0" damping="0" stiffness="0"/>
      <geom name="torso_geom" type="capsule" fromto="0 0 0.2 0 0 -0.2" size="0.05" friction="0.9"/>
      <body name="thigh" pos="0 0 -0.2">
        <joint name="thigh_joint" type="hinge" axis="0 -1 0" pos="0 0 0" range="-150 0"/>
        <geom name="thigh_geom" type="capsule" fromto="0 0 0 0 0 -0.45" size="0.05" friction="0.9"/>
        <body name="leg" pos="0 0 -0.7">
          <joint name="leg_joint" type="hinge" axis="0 -1 0" pos="0 0 0.25" range="-150 0"/>
          <geom name="leg_geom" type="capsule" fromto="0 0 0.25 0 0 -0.25" size="0.04" friction="0.9"/>
          <body name="foot" pos="0.13 0 -0.35">
            <joint name="foot_joint" type="hinge" axis="0 -1 0" pos="-0.13 0 0.1" range="-45 45"/>
            <geom name="foot_geom" type="capsule" fromto="-0.26 0 0.1 0.13 0 0.1" size="0.06" friction="2.0"/>
          </body>
        </body>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor joint="thigh_joint" gear="200" ctrllimited="true" ctrlrange="-1 1"/>
    <motor joint="leg_joint" gear="200" ctrllimited="true" ctrlrange="-1 1"/>
    <motor joint="foot_joint" gear="200" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
)xml";

}  // namespace seqrl::assets
