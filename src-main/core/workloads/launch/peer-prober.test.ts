// The peer prober's script and output: valid sh, its go/reply protocol, and the lines it prints.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProbeLines, proberScript } from './peer-prober';

describe('peer prober', () => {
  it('renders a script that sh accepts', () => {
    expect(() => execFileSync('/bin/sh', ['-n'], { input: proberScript() })).not.toThrow();
  });

  it('reads replies, no-replies and its clock', () => {
    expect(parseProbeLines(['@@cnlab-clock monotonic', 'ready /tmp/cnlab-launch-probe.x/go', 'go', 'reply 198.19.1.2 12500000', 'noreply 198.19.1.3'])).toEqual({
      clock: 'monotonic',
      replies: [
        { address: '198.19.1.2', ms: 12.5 },
        { address: '198.19.1.3', ms: null },
      ],
    });
  });

  it('waits for go on its FIFO, then times the first reply of each address with its own clock', () => {
    // Runs the real script on this machine against the loopback address, signalled through its FIFO.
    const outFile = `/tmp/cnlab-prober-test-${process.pid}`;
    let out: string;
    try {
      out = execFileSync('/bin/sh', ['-c', `sh -c "$1" sh 3000 127.0.0.1 > "$2" & p=$!; i=0; until grep -q ready "$2" || [ $i -gt 100 ]; do sleep 0.05; i=$((i+1)); done; printf 'go\\n' > "$(sed -n 's/^ready //p' "$2")"; wait $p; cat "$2"`, 'sh', proberScript(), outFile]).toString();
    } finally {
      rmSync(outFile, { force: true });
    }
    const { replies } = parseProbeLines(out.split('\n'));
    expect(replies).toHaveLength(1);
    expect(replies[0]?.ms).toBeGreaterThanOrEqual(0);
    expect(replies[0]?.ms).toBeLessThan(1000);
  });
});
