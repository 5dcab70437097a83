// Link shaping and the first-reply measurement in the planner: the schema's strict tc syntax, the exact
// tc lines on both ends of a link, the choice of qdisc from the host's probed kernel, the refusals
// (netem missing, management NIC), the underlay's ledger entry, and whom the first ping goes to.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CnlabError } from '../errors';
import type { FeatureSupport } from '../hosts/host-facts';
import { defaultBurstBytes, ROOT_HANDLE, shapingLines } from './modes/shaping';
import { labNames } from './naming';
import type { LabPlan } from './plan';
import { planLab, type PlanContext } from './planner';
import { contextFor, eth, specOf, hostPlanOf as host, stepOf as step } from './planner.test-support';
import { parseTopologyText, tcRateBitsPerSecond, tcSizeBytes, tcTimeMicros, type TopologyInput } from './topology-schema';

type Input = Omit<TopologyInput, 'v'>;
const names = labNames('lab');
const NETEM: Record<string, FeatureSupport> = { netem: { supported: true, source: 'trial' } };
const NO_TBF: Record<string, FeatureSupport> = { tbf: { supported: false, source: 'trial', reason: 'Error: Specified qdisc kind is unknown.' } };
const NOTHING: Record<string, FeatureSupport> = { ...NO_TBF, htb: { supported: false, source: 'trial', reason: 'Error: Specified qdisc kind is unknown.' } };

function plan(input: Input, context: PlanContext = contextFor(input.hosts)): LabPlan {
  return planLab(specOf(input), context);
}

function refusal(input: Input, context: PlanContext = contextFor(input.hosts)): string[] {
  try {
    plan(input, context);
  } catch (error) {
    if (error instanceof CnlabError) return error.message.split('\n');
    throw error;
  }
  throw new Error('the plan was not refused');
}



const ids = (result: LabPlan, hostName: string): string[] => host(result, hostName).steps.map((entry) => entry.id);

function bridgeLab(shaping: Record<string, unknown>, count = 2): Input {
  return {
    name: 'lab',
    hosts: ['h1'],
    networks: [{ name: 'lan', mode: 'bridge', shaping }, { name: 'fast', mode: 'bridge' }] as Input['networks'],
    containers: [
      { name: 'c', host: 'h1', count, networks: ['lan'] },
      { name: 'f', host: 'h1', networks: ['fast'] },
    ],
  };
}

describe('shaping in the topology schema', () => {
  const withShaping = (shaping: unknown) =>
    parseTopologyText(JSON.stringify({ v: 1, name: 'lab', hosts: ['h1'], networks: [{ name: 'lan', mode: 'bridge', shaping }], containers: [{ name: 'c1', host: 'h1', networks: ['lan'] }] }));

  it('accepts tc rates, sizes, times and loss as a number or a percentage', () => {
    expect(withShaping({ rate: '1gbit', burst: '32k', latency: '20ms' }).networks[0]?.shaping).toEqual({ rate: '1gbit', burst: '32k', latency: '20ms' });
    expect(withShaping({ delay: '1.5ms', jitter: '500us', loss: '0.5%' }).networks[0]?.shaping).toEqual({ delay: '1.5ms', jitter: '500us', loss: '0.5%' });
    expect(withShaping({ loss: 2 }).networks[0]?.shaping).toEqual({ loss: 2 });
    expect(tcRateBitsPerSecond('100mbit')).toBe(100e6);
    expect(tcRateBitsPerSecond('10mbps')).toBe(80e6);
    expect(tcSizeBytes('32k')).toBe(32768);
    expect(tcSizeBytes('8kbit')).toBe(1024);
    expect(tcTimeMicros('1.5ms')).toBe(1500);
  });

  it('refuses hostile and malformed values before anything is planned', () => {
    const bad = [
      { rate: '50mbit;reboot' },
      { rate: '$(id)' },
      { rate: "50mbit'" },
      { rate: '50mbit\nreboot' },
      { rate: '50 mbit' },
      { rate: 'fast' },
      { rate: '50' },
      { rate: '1bit' },
      { rate: '1000gbit' },
      { rate: '1gbit', burst: '$(id)' },
      { rate: '1gbit', burst: '100' },
      { delay: '10' },
      { delay: '10ms;id' },
      { loss: '101%' },
      { loss: 150 },
      { loss: '1%;id' },
    ];
    for (const shaping of bad) expect(() => withShaping(shaping), JSON.stringify(shaping)).toThrow(/topology: networks\.0\.shaping/);
  });

  it('refuses combinations tc cannot make sense of, naming the field', () => {
    expect(() => withShaping({})).toThrow(/at least one of rate, delay or loss/);
    expect(() => withShaping({ delay: '1ms', burst: '32k' })).toThrow(/burst belongs to a rate limit/);
    expect(() => withShaping({ jitter: '1ms', loss: 1 })).toThrow(/jitter varies the delay: set delay too/);
    expect(() => withShaping({ rate: '1gbit', colour: 'red' })).toThrow(/colour/);
  });

  it('validates underlay entries the same way, with a strict NIC name', () => {
    const spec = (entry: unknown) =>
      parseTopologyText(JSON.stringify({ v: 1, name: 'lab', hosts: ['h1'], underlayShaping: [entry], containers: [{ name: 'c1', host: 'h1' }] }));
    expect(spec({ host: 'h1', nic: 'eth1', rate: '1gbit' }).underlayShaping).toEqual([{ host: 'h1', nic: 'eth1', rate: '1gbit' }]);
    expect(() => spec({ host: 'h1', nic: 'eth1;reboot', rate: '1gbit' })).toThrow(/underlayShaping\.0\.nic/);
    expect(() => spec({ host: 'h1', rate: '1 gbit' })).toThrow(/underlayShaping\.0\.rate/);
    expect(() => spec({ host: 'h1' })).toThrow(/at least one of rate, delay or loss/);
  });
});

describe('shaping container links', () => {
  const result = plan(bridgeLab({ rate: '50mbit' }));
  const veth = names.link('v', 'c1/lan');

  it('shapes after link-up, only the containers of the shaped network', () => {
    expect(ids(result, 'h1')).toEqual([
      'net/lan',
      'net/fast',
      'c1/netns',
      'c1/links',
      'c1/addresses',
      'c1/link-up',
      'c1/shaping',
      'c2/netns',
      'c2/links',
      'c2/addresses',
      'c2/link-up',
      'c2/shaping',
      'f/netns',
      'f/links',
      'f/addresses',
      'f/link-up',
    ]);
  });

  it('puts tbf on both ends: the host end of the veth and eth0 in the namespace, with no ledger entry', () => {
    expect(step(result, 'h1', 'c1/shaping')).toEqual({
      id: 'c1/shaping',
      phase: 'shaping',
      container: 'c1',
      description: `shape eth0 and ${veth} (lan: rate 50mbit)`,
      creates: [],
      run: [
        { kind: 'tc-batch', netns: null, lines: [`qdisc replace dev ${veth} root handle c1ab: tbf rate 50mbit burst 25000 latency 50ms`] },
        { kind: 'tc-batch', netns: 'cnl-lab-c1', lines: ['qdisc replace dev eth0 root handle c1ab: tbf rate 50mbit burst 25000 latency 50ms'] },
      ],
    });
  });

  it('takes burst and latency as given, and defaults burst to 4 ms of rate, at least 16 KiB', () => {
    const given = plan(bridgeLab({ rate: '1gbit', burst: '64k', latency: '10ms' }));
    expect(step(given, 'h1', 'c1/shaping').run[1]).toEqual({ kind: 'tc-batch', netns: 'cnl-lab-c1', lines: ['qdisc replace dev eth0 root handle c1ab: tbf rate 1gbit burst 64k latency 10ms'] });
    expect(defaultBurstBytes('1gbit')).toBe(500_000);
    expect(defaultBurstBytes('1mbit')).toBe(16_384);
  });

  it('plans netem for delay, jitter and loss where the kernel has it, with the rate limiter as its child', () => {
    const context = contextFor(['h1'], { h1: { features: NETEM } });
    const shaped = plan(bridgeLab({ rate: '100mbit', delay: '5ms', jitter: '1ms', loss: '0.5%' }), context);
    expect(step(shaped, 'h1', 'c1/shaping').run[1]).toEqual({
      kind: 'tc-batch',
      netns: 'cnl-lab-c1',
      lines: [
        // 100 mbit/s keeps 75 KB in flight over 6 ms: netem's default 1000 packets suffice.
        'qdisc replace dev eth0 root handle c1ab: netem limit 1000 delay 5ms 1ms loss 0.5',
        'qdisc replace dev eth0 parent c1ab:1 handle c1ac: tbf rate 100mbit burst 50000 latency 50ms',
      ],
    });
    expect(step(shaped, 'h1', 'c1/shaping').description).toContain('rate 100mbit, delay 5ms±1ms, loss 0.5%');
    const delayOnly = plan(bridgeLab({ delay: '20ms' }), context);
    expect(step(delayOnly, 'h1', 'c2/shaping').run[1]).toEqual({ kind: 'tc-batch', netns: 'cnl-lab-c2', lines: ['qdisc replace dev eth0 root handle c1ab: netem limit 1000 delay 20ms'] });
  });

  it('raises netem\'s queue to what a fast, long link keeps in flight', () => {
    expect(shapingLines('eth0', { rate: '10gbit', delay: '50ms' }, 'tbf')[0]).toBe('qdisc replace dev eth0 root handle c1ab: netem limit 83334 delay 50ms');
  });

  it('uses htb with one class where the kernel lacks tbf', () => {
    const context = contextFor(['h1'], { h1: { features: { ...NO_TBF, ...NETEM } } });
    const shaped = plan(bridgeLab({ rate: '50mbit', loss: 1 }), context);
    expect(step(shaped, 'h1', 'c1/shaping').run[1]).toEqual({
      kind: 'tc-batch',
      netns: 'cnl-lab-c1',
      lines: [
        'qdisc replace dev eth0 root handle c1ab: htb default 1',
        'class replace dev eth0 parent c1ab: classid c1ab:1 htb rate 50mbit burst 25000',
        'qdisc replace dev eth0 parent c1ab:1 handle c1ac: netem limit 1000 loss 1',
      ],
    });
  });

  it('shapes a macvlan container only on its own end: the parent NIC is never touched', () => {
    const shaped = plan({
      name: 'lab',
      hosts: ['h1'],
      networks: [{ name: 'mv', mode: 'macvlan', shaping: { rate: '200mbit' } }],
      containers: [{ name: 'm', host: 'h1', count: 2, networks: ['mv'] }],
    });
    expect(step(shaped, 'h1', 'm1/shaping').run).toEqual([
      { kind: 'tc-batch', netns: 'cnl-lab-m1', lines: ['qdisc replace dev eth0 root handle c1ab: tbf rate 200mbit burst 100000 latency 50ms'] },
    ]);
    expect(step(shaped, 'h1', 'm1/shaping').description).toContain('what it sends');
  });

  it('shapes every link of a container with several networks in one step per side', () => {
    const shaped = plan({
      name: 'lab',
      hosts: ['h1'],
      networks: [
        { name: 'a', mode: 'bridge', shaping: { rate: '10mbit' } },
        { name: 'b', mode: 'nat', shaping: { rate: '20mbit' } },
      ],
      containers: [{ name: 'x', host: 'h1', networks: ['a', 'b'] }],
    });
    const run = step(shaped, 'h1', 'x/shaping').run;
    expect(run).toHaveLength(2);
    expect(run[1]).toMatchObject({ netns: 'cnl-lab-x', lines: [expect.stringContaining('dev eth0 root handle c1ab: tbf rate 10mbit') as unknown, expect.stringContaining('dev eth1 root handle c1ab: tbf rate 20mbit') as unknown] });
  });

  it('changes the fingerprint with the shaping and with the shaping features of the kernel', () => {
    const first = plan(bridgeLab({ rate: '50mbit' })).fingerprint;
    expect(plan(bridgeLab({ rate: '60mbit' })).fingerprint).not.toBe(first);
    expect(plan(bridgeLab({ rate: '50mbit' }), contextFor(['h1'], { h1: { features: NO_TBF } })).fingerprint).not.toBe(first);
    // A lab without shaping does not depend on qdisc support.
    const plain: Input = { name: 'lab', hosts: ['h1'], networks: [{ name: 'lan', mode: 'bridge' }], containers: [{ name: 'c1', host: 'h1', networks: ['lan'] }] };
    expect(plan(plain, contextFor(['h1'], { h1: { features: NO_TBF } })).fingerprint).toBe(plan(plain).fingerprint);
  });
});

describe('shaping refusals, decided from the probed facts', () => {
  it('refuses delay, jitter and loss where the kernel lacks netem, naming host, feature and reason', () => {
    // The fixture's kernel (like this machine's) has tbf and htb but no netem.
    expect(refusal(bridgeLab({ rate: '50mbit', delay: '5ms' }))).toEqual([
      "network lan: delay/loss need netem, which host h1's kernel lacks (Error: Specified qdisc kind is unknown.): remove delay, jitter and loss from the shaping of network lan, or use a host whose kernel has sch_netem",
    ]);
    expect(refusal(bridgeLab({ loss: 1 }))[0]).toContain("delay/loss need netem, which host h1's kernel lacks");
  });

  it('refuses a rate where the kernel has neither tbf nor htb, and asks for a probe when it is unknown', () => {
    expect(refusal(bridgeLab({ rate: '50mbit' }), contextFor(['h1'], { h1: { features: NOTHING } }))).toEqual([
      "network lan: rate needs tbf or htb, which host h1's kernel lacks (Error: Specified qdisc kind is unknown.): remove rate from the shaping of network lan, or use a host whose kernel has sch_tbf or sch_htb",
    ]);
    const unknown = contextFor(['h1'], { h1: { features: { netem: { supported: 'unknown', source: 'unknown' } } } });
    expect(refusal(bridgeLab({ delay: '1ms' }), unknown)[0]).toMatch(/delay\/loss need netem, whose support on host h1 could not be probed: run `cnlab hosts probe h1`/);
  });

  it('refuses shaping on networks without a container link', () => {
    const input: Input = {
      name: 'lab',
      hosts: ['h1'],
      networks: [
        { name: 'iso', mode: 'none', shaping: { rate: '1mbit' } },
        { name: 'hn', mode: 'host', shaping: { rate: '1mbit' } },
      ],
      containers: [
        { name: 'a', host: 'h1', networks: ['iso'] },
        { name: 'b', host: 'h1', networks: ['hn'] },
      ],
    };
    const problems = refusal(input);
    expect(problems).toContain('network iso (mode none) has no link to shape, only loopback: remove its shaping');
    expect(problems.some((line) => line.startsWith("network hn (mode host) runs containers in the host's own namespace"))).toBe(true);
  });

  it('refuses container-link shaping with backend cni, whose plugins name the host ends of the links', () => {
    expect(refusal({ ...bridgeLab({ rate: '50mbit' }), backend: 'cni' })).toContain(
      'network lan: shaping is not available with backend cni yet (the CNI plugins name the host end of each link): use backend iproute2, or remove its shaping',
    );
  });

  it('refuses a container named "net" whose steps would collide with a network named "shaping" or "first-reply"', () => {
    const input: Input = { name: 'lab', hosts: ['h1'], networks: [{ name: 'first-reply', mode: 'bridge' }], containers: [{ name: 'net', host: 'h1', networks: ['first-reply'] }] };
    expect(refusal(input)[0]).toContain('its plan step net/first-reply would collide');
  });
});

describe('underlay shaping', () => {
  const base = (entry: Record<string, unknown>): Input =>
    ({ name: 'lab', hosts: ['h1'], networks: [{ name: 'lan', mode: 'bridge' }], containers: [{ name: 'c1', host: 'h1', networks: ['lan'] }], underlayShaping: [entry] }) as Input;
  const withEth1 = () => contextFor(['h1'], { h1: { extraNics: [eth('eth1', '10.9.0.2/24')] } });
  /** Only the management NIC and loopback, like a testbed host. */
  const managementOnly = () => {
    const context = contextFor(['h1']);
    const facts = context.facts.h1;
    if (facts) facts.nics = facts.nics.filter((nic) => nic.name === 'eth0' || nic.name === 'lo');
    return context;
  };

  it('never shapes the management NIC: refused by default and when named', () => {
    const message =
      "underlayShaping of host h1 (eth0): eth0 is host h1's management NIC (it carries 192.0.2.11, cnlab's connection to the host), and cnlab never changes the management NIC: set nic to another NIC of h1 (ifb0, ifb1, eth1), or shape the container links with the networks' shaping";
    expect(refusal(base({ host: 'h1', rate: '1gbit' }), withEth1())).toEqual([message]);
    expect(refusal(base({ host: 'h1', nic: 'eth0', rate: '1gbit' }), withEth1())).toEqual([message]);
    expect(refusal(base({ host: 'h1', rate: '1gbit' }), managementOnly())[0]).toContain('and cnlab never changes the management NIC: host h1 has no other NIC to shape');
  });

  it('refuses a NIC that does not exist, the loopback device, an unknown host and a NIC shaped twice', () => {
    expect(refusal(base({ host: 'h1', nic: 'eth7', rate: '1gbit' }), withEth1())[0]).toMatch(/nic eth7 does not exist on host h1 \(its NICs: .*eth1.*\): set nic to one of them/);
    expect(refusal(base({ host: 'h1', nic: 'lo', rate: '1gbit' }), withEth1())[0]).toContain('lo is the loopback device, not an underlay');
    expect(refusal(base({ host: 'h9', nic: 'eth1', rate: '1gbit' }))).toEqual(["underlayShaping names host h9, which is not in the topology's hosts (h1): add it to hosts or fix the name"]);
    const twice = { ...base({ host: 'h1', nic: 'eth1', rate: '1gbit' }), underlayShaping: [{ host: 'h1', nic: 'eth1', rate: '1gbit' }, { host: 'h1', nic: 'eth1', rate: '2gbit' }] };
    expect(refusal(twice, withEth1())).toEqual(['underlayShaping of host h1 (eth1): eth1 of host h1 is shaped twice: merge the two entries']);
    expect(refusal(base({ host: 'h1', nic: 'eth1', delay: '1ms' }), withEth1())[0]).toContain("underlayShaping of host h1 (eth1): delay/loss need netem, which host h1's kernel lacks");
  });

  it('shapes another NIC as a host step with a ledger entry whose undo removes only cnlab\'s own qdisc', () => {
    const result = plan(base({ host: 'h1', nic: 'eth1', rate: '1gbit' }), withEth1());
    expect(step(result, 'h1', 'host/underlay-shaping/eth1')).toEqual({
      id: 'host/underlay-shaping/eth1',
      phase: 'shaping',
      description: 'shape what leaves eth1, an underlay NIC of host h1 (rate 1gbit)',
      creates: [{ kind: 'qdisc', name: 'eth1', undo: `tc qdisc del dev eth1 root handle ${ROOT_HANDLE}` }],
      run: [{ kind: 'tc-batch', netns: null, lines: ['qdisc replace dev eth1 root handle c1ab: tbf rate 1gbit burst 500000 latency 50ms'] }],
    });
    expect(ids(result, 'h1').indexOf('host/underlay-shaping/eth1')).toBeLessThan(ids(result, 'h1').indexOf('c1/netns'));
    expect(spawnSync('sh', ['-n', '-c', `tc qdisc del dev eth1 root handle ${ROOT_HANDLE}`]).status).toBe(0);
  });
});

describe('first-reply measurement', () => {
  const timed = (input: Input, context = contextFor(input.hosts)) => planLab(specOf(input), { ...context, measureFirstReply: true });

  it('is planned only when asked, after link-up (and shaping), pinging the gateway of the block', () => {
    const input = bridgeLab({ rate: '50mbit' }, 1);
    expect(ids(plan(input), 'h1').some((id) => id.endsWith('/first-reply'))).toBe(false);
    const result = timed(input);
    expect(ids(result, 'h1')).toEqual([
      'net/lan',
      'net/fast',
      'c1/netns',
      'c1/links',
      'c1/addresses',
      'c1/link-up',
      'c1/shaping',
      'c1/first-reply',
      'f/netns',
      'f/links',
      'f/addresses',
      'f/link-up',
      'f/first-reply',
    ]);
    expect(step(result, 'h1', 'c1/first-reply')).toEqual({
      id: 'c1/first-reply',
      phase: 'first-reply',
      container: 'c1',
      description: 'time until the first ping reply from 198.19.0.1 (the gateway of network lan)',
      creates: [],
      run: [{ kind: 'first-reply', netns: 'cnl-lab-c1', address: '198.19.0.1' }],
    });
    expect(result.fingerprint).toBe(plan(input).fingerprint);
  });

  it('pings each host\'s own gateway on multi-host networks', () => {
    const result = timed({ name: 'lab', hosts: ['h1', 'h2'], networks: [{ name: 'ov', mode: 'vxlan' }], containers: [{ name: 'a', host: 'h1', networks: ['ov'] }, { name: 'b', host: 'h2', networks: ['ov'] }] });
    expect(step(result, 'h2', 'b/first-reply').run).toEqual([{ kind: 'first-reply', netns: 'cnl-lab-b', address: '198.19.1.1' }]);
  });

  it('on macvlan pings the first earlier container of the same host; the first one, vepa and private have none', () => {
    const lab = (macvlanMode: string): Input =>
      ({
        name: 'lab',
        hosts: ['h1', 'h2'],
        networks: [{ name: 'mv', mode: 'macvlan', options: { macvlanMode } }],
        containers: [
          { name: 'r', host: 'h2', networks: ['mv'] },
          { name: 'm', host: 'h1', count: 3, networks: ['mv'] },
        ],
      }) as Input;
    const result = timed(lab('bridge'));
    const address = (name: string) => result.containers.find((entry) => entry.name === name)?.interfaces[0]?.address?.split('/')[0];
    expect(ids(result, 'h1')).not.toContain('m1/first-reply');
    expect(ids(result, 'h2')).not.toContain('r/first-reply');
    expect(step(result, 'h1', 'm2/first-reply').run).toEqual([{ kind: 'first-reply', netns: 'cnl-lab-m2', address: address('m1') }]);
    expect(step(result, 'h1', 'm3/first-reply').run).toEqual([{ kind: 'first-reply', netns: 'cnl-lab-m3', address: address('m1') }]);
    for (const mode of ['vepa', 'private']) expect(ids(timed(lab(mode)), 'h1').some((id) => id.endsWith('/first-reply'))).toBe(false);
  });

  it('is not planned for none and host containers', () => {
    const result = timed({
      name: 'lab',
      hosts: ['h1'],
      networks: [
        { name: 'iso', mode: 'none' },
        { name: 'hn', mode: 'host' },
        { name: 'br', mode: 'bridge' },
      ],
      containers: [
        { name: 'z', host: 'h1', networks: ['iso'] },
        { name: 'hm', host: 'h1', networks: ['hn'] },
        { name: 'a', host: 'h1', networks: ['br'] },
      ],
    });
    expect(ids(result, 'h1').filter((id) => id.endsWith('/first-reply'))).toEqual(['a/first-reply']);
  });

  it('times a namespace-sharing container from the shared namespace, after its owner even when listed before it', () => {
    const input = {
      name: 'lab',
      hosts: ['h1'],
      networks: [{ name: 'br', mode: 'bridge' }],
      containers: [
        { name: 'early', host: 'h1', shareNetnsWith: 'a' },
        { name: 'a', host: 'h1', networks: ['br'] },
        { name: 'p', host: 'h1', shareNetnsWith: 'a' },
      ],
    } as Input;
    const result = timed(input);
    expect(ids(result, 'h1')).toEqual(['net/br', 'a/netns', 'a/links', 'a/addresses', 'a/link-up', 'a/first-reply', 'early/first-reply', 'p/first-reply']);
    expect(step(result, 'h1', 'p/first-reply')).toEqual({
      id: 'p/first-reply',
      phase: 'first-reply',
      container: 'p',
      description: 'time until the first ping reply from 198.19.0.1 (the gateway of network br, from the namespace it shares with a)',
      creates: [],
      run: [{ kind: 'first-reply', netns: 'cnl-lab-a', address: '198.19.0.1' }],
    });
    // Untimed, a sharer still creates nothing.
    expect(ids(plan(input), 'h1')).toEqual(['net/br', 'a/netns', 'a/links', 'a/addresses', 'a/link-up']);
  });
});
