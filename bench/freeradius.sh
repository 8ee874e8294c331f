# Shared by the benchmarks: a throwaway FreeRADIUS 3.2 (Debian's freeradius) in a namespace of
# the bench's own, on 127.0.0.1:1812/1813, accepting every user with $PASSWORD (a DEFAULT entry)
# from loopback and from the LNS address, accounting answered and not stored. Sourced by the
# bench scripts, which have WORK, PIDS (the PIDs they stop), RADIUS_SECRET, PASSWORD, log and die.

# start_freeradius NAMESPACE LNS_IP THREADS: returns once FreeRADIUS is ready; sets RD (its raddb)
# and RADIUS_PID.
start_freeradius() {
local ns=$1 LNS_IP=$2 threads=$3
RD=$WORK/raddb; mkdir -p "$RD"
cat > "$RD/radiusd.conf" <<EOF
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = $RD
sbindir = /usr/sbin
logdir = $RD
raddbdir = $RD
radacctdir = $RD
confdir = $RD
run_dir = $RD
db_dir = $RD
libdir = /usr/lib/freeradius
pidfile = $RD/radiusd.pid
name = freeradius
max_request_time = 30
cleanup_delay = 2
max_requests = 65536
hostname_lookups = no
log {
  destination = stdout
  auth = no
}
security {
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = no
}
thread pool {
  start_servers = $threads
  max_servers = $threads
  min_spare_servers = 1
  max_spare_servers = $threads
  max_requests_per_server = 0
}
# one client for both LNSs: l2tpns sends no Message-Authenticator in its Access-Requests
client loopback {
  ipaddr = 127.0.0.0/8
  secret = "$RADIUS_SECRET"
  require_message_authenticator = no
}
# lnsd sends from its bind_address
client lns {
  ipaddr = $LNS_IP
  secret = "$RADIUS_SECRET"
  require_message_authenticator = no
}
modules {
  pap {
  }
  chap {
  }
  files {
    filename = $RD/users
    acctusersfile = $RD/acct_users
  }
  always ok {
    rcode = ok
  }
}
server default {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = 1812
  }
  listen {
    type = acct
    ipaddr = 127.0.0.1
    port = 1813
  }
  authorize {
    files
    chap
    pap
  }
  authenticate {
    Auth-Type PAP {
      pap
    }
    Auth-Type CHAP {
      chap
    }
  }
  preacct {
  }
  accounting {
    ok
  }
  # FreeRADIUS 3.2.1 does not sign its replies by itself; lnsd wants a Message-Authenticator in
  # every Access-Accept/Reject (docs/radius.md); l2tpns ignores it
  post-auth {
    update reply {
      Message-Authenticator := 0x00
    }
    Post-Auth-Type REJECT {
      update reply {
        Message-Authenticator := 0x00
      }
    }
  }
}
EOF
echo "\$INCLUDE /usr/share/freeradius/dictionary" > "$RD/dictionary"
printf 'DEFAULT Cleartext-Password := "%s"\n\tService-Type = Framed-User,\n\tFramed-Protocol = PPP\n' "$PASSWORD" > "$RD/users"
: > "$RD/acct_users"
freeradius -C -d "$RD" -n radiusd >"$WORK/freeradius-check.log" 2>&1 || { tail -20 "$WORK/freeradius-check.log"; die "freeradius -C failed"; }
ip netns exec "$ns" freeradius -f -l stdout -d "$RD" -n radiusd >"$WORK/freeradius.log" 2>&1 </dev/null &
RADIUS_PID=$!; PIDS+=("$RADIUS_PID")
for _ in $(seq 100); do grep -q 'Ready to process requests' "$WORK/freeradius.log" && break; sleep 0.1; done
grep -q 'Ready to process requests' "$WORK/freeradius.log" || { tail -20 "$WORK/freeradius.log"; die "freeradius did not start"; }
}
