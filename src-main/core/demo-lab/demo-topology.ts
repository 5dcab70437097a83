// The example topology the demo lab opens: examples/demo-bridge-vxlan.yaml on the demo's hosts.
// A unit test parses both and compares their networks and containers, so the two cannot drift apart.

export const DEMO_TOPOLOGY_NAME = 'demo';

/** examples/demo-bridge-vxlan.yaml with its hosts renamed h1 → demo-h1, h2 → demo-h2. */
export const DEMO_TOPOLOGY_TEXT = `# Two-host demo: a local bridge on each host plus a VXLAN overlay that spans both.
# demo-h1 and demo-h2 are emulated hosts on this machine (the lab-in-a-box testbed); Apply, then Verify.
v: 1
name: ${DEMO_TOPOLOGY_NAME}
hosts: [demo-h1, demo-h2]
addressPool: 198.19.0.0/16
networks:
  - { name: lan, mode: bridge }
  - { name: ov, mode: vxlan, options: { vni: 42, mtu: auto } }
containers:
  # web talks to db over the host-local bridge and to client across hosts over the overlay.
  - { name: web, host: demo-h1, networks: [lan, ov] }
  - { name: db, host: demo-h1, networks: [lan] }
  - { name: client, host: demo-h2, networks: [ov] }
`;
