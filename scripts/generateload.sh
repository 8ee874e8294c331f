#!/usr/bin/env bash
# Builds l2tpns's own test LAC, generateload (test/generateload.c in Debian's l2tpns source
# package), and prints the path of the binary. That source is GPL-2 and is not part of this
# repository: this script fetches Debian's source package with apt-get source (apt checks it
# against the archive's signed Sources index), changes the few lines listed below with sed, and
# compiles it with gcc into a cache directory, where later runs find it.
#
#   scripts/generateload.sh        build unless cached; print the binary's path
#   GENERATELOAD_CACHE=DIR         the cache (default /var/tmp/lnsd-generateload)
#
# The host's apt configuration is left alone: the deb-src twins of its deb sources, the Sources
# index and the download live in the cache (a private Dir::State::Lists and source list).
# Needs apt-get, dpkg-source (dpkg-dev) and gcc; scripts/deps.sh installs them.
#
# What is changed in generateload.c, and why (without these it stalls after a few dozen sessions,
# against l2tpns 2.4.1 as well as against lnsd):
#  1. Nr. parsecontrol() set our Nr to the Nr the LNS sent (how many of OUR messages it has),
#     not to the Ns of the LNS's last in-order message + 1 (RFC 2661 5.8). Its ICCNs then
#     acknowledged control messages the LNS had queued behind its window and never sent
#     (generateload advertises a window of 20), so the LNS dropped those ICRPs from its queue
#     and their calls never came up. Now Nr counts the LNS's messages received in order.
#  2. Duplicates. A control message the LNS retransmitted was handled again: a second ICCN and
#     LCP Configure-Request for a call already connected. Now a duplicate or out-of-order
#     message is only acknowledged (a ZLB, RFC 2661 5.8), and a ZLB is not handled at all.
#  3. One call at a time. All ICRQs went out (15 ms apart) before the process that reads the
#     LNS's answers was even started: with 1,000 calls the ICRPs and their retransmissions
#     overflowed the unread socket buffer, and the burst of ICCNs that followed overflowed the
#     LNS's; generateload never retransmits, so one lost ICCN stalled the tunnel for good
#     (l2tpns: "Out of sequence tunnel 2, (1246 is not the expected 1243)"). Now the first ICRQ
#     goes out as before and each ICRP the reader handles sends the next call's ICRQ, so no
#     burst builds up on either side. The ICRQ is the same as before (the same AVPs).
#  4. LCP Configure-Ack. It acknowledged the LNS's Configure-Request with no options at all;
#     RFC 1661 5.2: the options of a Configure-Ack "MUST exactly match" those of the request,
#     or it is silently discarded (l2tpns does not check; lnsd does, and resent its request
#     until the session gave up). Now the request's options are echoed, and its Identifier
#     always (an Identifier of 0 was replaced by a counter of generateload's own).
#  5. IPCP Configure-Ack. It acknowledged the LNS's request with an Identifier of its own
#     (time(NULL) % 255) and only the first option; RFC 1661 5.2 wants the request's Identifier
#     and all its options. Now both are echoed.
#  6. Its own LCP Configure-Request asked for the Authentication-Protocol option (PAP): that
#     asks the LNS to authenticate itself to the LAC, which no LNS does; lnsd rejects the option
#     (RFC 1661 5.4), and generateload ignores a Configure-Reject, so its LCP never opened and it
#     never sent its PAP request (l2tpns acknowledges the option and never authenticates itself).
#     Now the request carries only the MRU; the LAC still logs in with PAP as before.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${GENERATELOAD_CACHE:-/var/tmp/lnsd-generateload}
# The build is keyed by this script: change a patch, get a new build.
key=$(sha256sum "$here/generateload.sh" | cut -c1-16)
out=$cache/$key
if [ -x "$out/generateload" ]; then
  echo "$out/generateload"
  exit 0
fi
for tool in apt-get dpkg-source gcc; do
  command -v "$tool" >/dev/null || { echo "generateload.sh: $tool not found (scripts/deps.sh installs it)" >&2; exit 2; }
done

work=$(mktemp -d "$cache.XXXXXX" 2>/dev/null || { mkdir -p "$(dirname "$cache")"; mktemp -d "$cache.XXXXXX"; })
trap 'rm -rf "$work" "$out.tmp"' EXIT

# deb-src twins of the host's deb sources (one-line .list files and deb822 .sources files).
apt_dir=$cache/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/sources.list.d"
rm -f "$apt_dir/sources.list.d/"*
: >"$apt_dir/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] && sed -nE 's/^[[:space:]]*deb[[:space:]]+/deb-src /p' "$f" >>"$apt_dir/sources.list"
done
for f in /etc/apt/sources.list.d/*.sources; do
  # Only those with binary sources: a file of deb-src already would be there twice.
  [ -f "$f" ] && grep -qE '^Types:(.*[[:space:]])?deb([[:space:]]|$)' "$f" &&
    sed -E 's/^Types:.*/Types: deb-src/' "$f" >"$apt_dir/sources.list.d/$(basename "$f")"
done
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=")
[ "$(id -u)" -eq 0 ] && apt_opts+=(-o "APT::Sandbox::User=root")
echo "generateload.sh: apt-get source l2tpns (Debian's source package) into $work" >&2
apt-get "${apt_opts[@]}" -qq update >&2
(cd "$work" && apt-get "${apt_opts[@]}" -qq source l2tpns >&2)
src=$(echo "$work"/l2tpns-*/test/generateload.c)
[ -f "$src" ] || { echo "generateload.sh: no test/generateload.c in the source package" >&2; exit 1; }
version=$(basename "$(dirname "$(dirname "$src")")")

# The changes described at the top; each sed expression must match exactly once, or the build
# stops (a new upstream version is then looked at again rather than patched blindly).
patch_once() { # patch_once FILE PATTERN SED-EXPRESSION
  local n
  n=$(grep -c -- "$2" "$1" || true)
  [ "$n" = 1 ] || { echo "generateload.sh: '$2' found $n times in $1 (expected once): $version needs a fresh look" >&2; exit 1; }
  sed -i -e "$3" "$1"
}
# 1 and 2: a flag saying whether the message just parsed was the next one in order.
patch_once "$src" '^int ns = 0, nr = 0;$' '/^int ns = 0, nr = 0;$/a int in_order; /* lnsd: scripts/generateload.sh, change 1 */'
patch_once "$src" 'c->nr = nr = ntohs' 's/c->nr = nr = ntohs(\(.*\));/c->nr = ntohs(\1); in_order = length > 12 \&\& c->ns == (u16) nr; if (in_order) nr = (u16) (nr + 1);/'
patch_once "$src" 's = m->session;' '/s = m->session;/a if (!in_order) { if (l > 12) controlnull(t); cm_free(m); continue; } /* lnsd: change 2 */'
# 3: only the first ICRQ from the start-up loop; the reader sends each next one on an ICRP.
patch_once "$src" 'for (s = 1; s <= numsessions; s++)' 's/for (s = 1; s <= numsessions; s++)/for (s = 1; s <= 1; s++) \/* lnsd: change 3 *\//'
patch_once "$src" 'Authentication Protocol - PAP' '/Authentication Protocol - PAP/a if (s < numsessions) { controlt *q = controlnew(10); controls(q, 21, "12356", 0); controls(q, 22, "000", 0); control16(q, 14, s + 1, 0); controlsend(q, t, 0); controlfree(q); } /* lnsd: change 3, the next call */'
# 4: the LCP Configure-Ack carries the request's options (packet + 12 on, length at packet + 10).
echo_options='{ int ol = ntohs(*(u16 *)(packet + 10)) - 4; if (ol > 0 \&\& ol < 1400) { memcpy(r->buf + 12, packet + 12, ol); r->length = 12 + ol; *(u16 *)(r->buf + 10) = htons(ol + 4); } }'
patch_once "$src" 'r = ppp_lcp(s, CONFACK, ppp_id);' "/r = ppp_lcp(s, CONFACK, ppp_id);/a r->buf[9] = packet[9]; $echo_options /* lnsd: change 4 */"
# 5: the IPCP Configure-Ack: the request's Identifier (packet + 9) and options.
patch_once "$src" 'ACK gateway IP' "/ACK gateway IP/a r->buf[9] = packet[9]; $echo_options /* lnsd: change 5 */"
# 6: no Authentication-Protocol option in its LCP Configure-Request (after 3, which finds that line).
patch_once "$src" 'ppp_lcp_add_option(c, 3, 2, htons(0xC023));' 's|ppp_lcp_add_option(c, 3, 2, htons(0xC023));|/* lnsd: change 6 */|'

rm -rf "$out.tmp"
mkdir -p "$out.tmp"
gcc -O2 -std=gnu99 -w -o "$out.tmp/generateload" "$src"
echo "$version, patched by scripts/generateload.sh ($key)" >"$out.tmp/VERSION"
rm -rf "$out"
mv "$out.tmp" "$out"
# Older builds (of earlier versions of this script) go.
find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name apt ! -name "$key" -exec rm -rf {} +
echo "generateload.sh: built $out/generateload from $version" >&2
echo "$out/generateload"
