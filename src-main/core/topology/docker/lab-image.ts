// The lab image of the docker runtime: the image every lab container runs. Where no registry can be
// reached (air-gapped labs are common) cnlab builds it on the host from the host's own load tools and
// their shared libraries, FROM scratch through `docker import`; its tag is a hash of those binaries, so
// a host whose tools change gets a new image and an unchanged host reuses the one it has. The image is
// a cache shared by labs, never part of a lab's ledger: teardown leaves it (`docker image ls cnlab-lab`).
import { shellCommand } from '../../shell/quote';

export const LAB_IMAGE_REPOSITORY = 'cnlab-lab';
/** The label the built image carries, so people (and a future prune) can tell it is cnlab's. */
export const LAB_IMAGE_LABEL = 'cnlab.image=lab';
/** Copied when present: the load generators, ping for first replies, and sleep to keep a container up. */
const LAB_TOOLS = ['iperf3', 'sockperf', 'netperf', 'netserver', 'ping', 'ip', 'sleep'];
/** The shell variable the image step sets and the container steps use. */
export const IMAGE_VARIABLE = 'cnlab_image';

/**
 * Sets $cnlab_image to a ready image: `image` when given (it must be on the host: cnlab never pulls),
 * else the lab image built from the host's tools when missing. sh text for one apply step.
 */
export function labImageScript(image: string | null): string {
  if (image !== null) {
    const ref = shellCommand([image]);
    return [
      `${IMAGE_VARIABLE}=${ref}`,
      `docker image inspect ${ref} >/dev/null 2>&1 || { printf 'image %s is not on this host, and cnlab does not pull images: load it (docker load) or leave docker.image unset so cnlab builds one from the host tools\\n' ${ref} >&2; false; }`,
    ].join('\n');
  }
  return [
    'cnlab_lab_image() {',
    'cnlab_bins=; cnlab_sleep=',
    `for cnlab_t in ${LAB_TOOLS.join(' ')}; do`,
    '  cnlab_p=$(command -v "$cnlab_t" 2>/dev/null) || continue',
    '  case $cnlab_p in /*) cnlab_bins="$cnlab_bins $cnlab_p";; esac',
    '  [ "$cnlab_t" = sleep ] && cnlab_sleep=$cnlab_p',
    'done',
    `[ -n "$cnlab_sleep" ] || { echo 'no sleep command on this host to keep lab containers up' >&2; return 1; }`,
    // The tag names the content: the binaries themselves, hashed.
    `${IMAGE_VARIABLE}=${LAB_IMAGE_REPOSITORY}:$(cat $cnlab_bins | sha256sum | cut -c1-16)`,
    'cnlab_build_image() {',
    `  cnlab_root=$(mktemp -d /tmp/cnlab-image.XXXXXX) && [ -d "$cnlab_root" ] || { echo 'cannot make a scratch folder for the lab image under /tmp' >&2; return 1; }`,
    '  cnlab_rc=0',
    '  for cnlab_f in $cnlab_bins $(for cnlab_b in $cnlab_bins; do ldd "$cnlab_b" 2>/dev/null | awk \'$3 ~ /^\\// {print $3} $1 ~ /^\\// {print $1}\'; done | sort -u); do',
    '    mkdir -p "$cnlab_root${cnlab_f%/*}" && cp -L "$cnlab_f" "$cnlab_root$cnlab_f" || cnlab_rc=1',
    '  done',
    // iperf3 writes a temporary file per stream.
    '  mkdir -p "$cnlab_root/tmp" && chmod 1777 "$cnlab_root/tmp" || cnlab_rc=1',
    `  [ "$cnlab_rc" = 0 ] && tar -C "$cnlab_root" -c . | docker import --change "CMD [\\"$cnlab_sleep\\", \\"infinity\\"]" --change ${shellCommand([`LABEL ${LAB_IMAGE_LABEL}`])} - "$${IMAGE_VARIABLE}" >/dev/null || cnlab_rc=1`,
    '  rm -rf "$cnlab_root"',
    `  [ "$cnlab_rc" = 0 ] || { echo 'building the lab image from the host tools failed (copying them, or docker import)' >&2; return 1; }`,
    '}',
    `docker image inspect "$${IMAGE_VARIABLE}" >/dev/null 2>&1 || cnlab_build_image`,
    '}',
    'cnlab_lab_image',
  ].join('\n');
}
