// The two-host demo topology (examples/demo-bridge-vxlan.yaml, same content) for the renderer's tests,
// which run in a browser-like environment and cannot read files from the repository.
export const DEMO_TOPOLOGY_TEXT = `# Two-host demo: a local bridge on each host plus a VXLAN overlay that spans both.
v: 1
name: demo
hosts: [h1, h2]
addressPool: 198.19.0.0/16
networks:
  - { name: lan, mode: bridge }
  - { name: ov, mode: vxlan, options: { vni: 42, mtu: auto } }
containers:
  - { name: web, host: h1, networks: [lan, ov] }
  - { name: db, host: h1, networks: [lan] }
  - { name: client, host: h2, networks: [ov] }
`;
