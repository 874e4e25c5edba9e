#!/bin/bash
# nginx.sh start DIR | stop DIR - a real nginx on 127.0.0.1 for the https transport's tests.
#
# start DIR   makes DIR/pki with openssl (once; kept if DIR/pki/ca.crt exists):
#               ca.crt, ca.key                 the test CA
#               server.crt, server.key         signed by the test CA for IP 127.0.0.1 and DNS localhost
#               other.crt, other.key           signed by the test CA for DNS other.example only
#               untrusted-ca.crt, -ca.key      a second CA, trusted by nobody
#               untrusted.crt, untrusted.key   signed by the untrusted CA for IP 127.0.0.1
#             then serves DIR/www (created if missing) on four free ports of 127.0.0.1:
#               PORT             https (TLS 1.2/1.3, HTTP/2 and HTTP/1.1 by ALPN), server.crt
#               WRONGNAME_PORT   https, other.crt
#               UNTRUSTED_PORT   https, untrusted.crt
#               HTTP_PORT        plain http
#             etag and sendfile on. Extra locations:
#               /redirect/P      301 to /P on the same port (PORT and HTTP_PORT)
#               /to-http/P       301 to http://127.0.0.1:HTTP_PORT/P, https to http (PORT)
#               DIR/server.d/*.conf  included into the PORT and HTTP_PORT server blocks, for a
#                                test's own locations; write them before start
#             nginx runs daemonized as the current user (workers too, also when root), with its
#             configuration, pid, temporary files and logs in DIR (DIR/logs/access.log, nginx's
#             combined format: '"GET /x HTTP/2.0" 200 SIZE'). Prints one shell-sourceable line:
#               PORT=... WRONGNAME_PORT=... UNTRUSTED_PORT=... HTTP_PORT=... PID=...
# stop DIR    stops the nginx that "start DIR" started (TERM to its master PID only, KILL after 10 s);
#             nothing to do when it is not running.
# Errors go to stderr with a non-zero exit.
set -euo pipefail
name=nginx
. "$(dirname "$(readlink -f "$0")")/server-lib.sh"

NGINX=${NGINX:-/usr/sbin/nginx}

# "cert key": a key and a certificate for subject CN $2 with SAN $3, signed by CA $4 (its .crt/.key)
issue() {
	local name=$1 cn=$2 san=$3 ca=$4
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$pki/$name.key" -subj "/CN=$cn" -out "$pki/$name.csr" 2>/dev/null
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
		"$san" >"$pki/$name.ext"
	openssl x509 -req -in "$pki/$name.csr" -CA "$pki/$ca.crt" -CAkey "$pki/$ca.key" -CAcreateserial \
		-days 3650 -sha256 -extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null
	rm -f "$pki/$name.csr" "$pki/$name.ext"
}

# a self-signed CA $1 named $2
authority() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -sha256 \
		-keyout "$pki/$1.key" -out "$pki/$1.crt" -subj "/CN=$2" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

make_pki() {
	[ -f "$pki/ca.crt" ] && [ -f "$pki/untrusted.crt" ] && return 0
	command -v openssl >/dev/null || die "openssl is not installed"
	mkdir -p "$pki"
	authority ca "psi test CA" || die "openssl could not make the test CA in $pki"
	authority untrusted-ca "psi untrusted test CA" || die "openssl could not make the untrusted CA in $pki"
	issue server 127.0.0.1 "IP:127.0.0.1,DNS:localhost" ca || die "openssl could not issue server.crt in $pki"
	issue other other.example "DNS:other.example" ca || die "openssl could not issue other.crt in $pki"
	issue untrusted 127.0.0.1 "IP:127.0.0.1" untrusted-ca || die "openssl could not issue untrusted.crt in $pki"
	rm -f "$pki"/*.srl
}

# N distinct ports that nothing listens on now (nginx may still lose a race: start retries)
write_conf() {
	local user_line=""
	# as root, workers would otherwise run as nobody and could not read DIR; as anyone else
	# nginx cannot switch users and warns about the directive
	[ "$(id -u)" = 0 ] && user_line="user $(id -un) $(id -gn);"
	cat >"$dir/nginx.conf" <<EOF
# written by itest/servers/nginx.sh; rewritten on every start
$user_line
daemon on;
worker_processes 1;
pid "$dir/nginx.pid";
error_log "$dir/logs/error.log" warn;
events { worker_connections 256; }
http {
	default_type application/octet-stream;
	access_log "$dir/logs/access.log";
	client_body_temp_path "$dir/tmp/body";
	proxy_temp_path "$dir/tmp/proxy";
	fastcgi_temp_path "$dir/tmp/fastcgi";
	uwsgi_temp_path "$dir/tmp/uwsgi";
	scgi_temp_path "$dir/tmp/scgi";
	sendfile on;
	tcp_nopush on;
	etag on;
	keepalive_timeout 30s;
	root "$dir/www";
	ssl_protocols TLSv1.2 TLSv1.3;
	server {
		listen 127.0.0.1:$port ssl http2;
		ssl_certificate "$pki/server.crt";
		ssl_certificate_key "$pki/server.key";
		location /redirect/ { rewrite ^/redirect/(.*)\$ https://127.0.0.1:$port/\$1 permanent; }
		location /to-http/ { rewrite ^/to-http/(.*)\$ http://127.0.0.1:$http_port/\$1 permanent; }
		include "$dir/server.d/*.conf";
	}
	server {
		listen 127.0.0.1:$wrongname_port ssl http2;
		ssl_certificate "$pki/other.crt";
		ssl_certificate_key "$pki/other.key";
	}
	server {
		listen 127.0.0.1:$untrusted_port ssl http2;
		ssl_certificate "$pki/untrusted.crt";
		ssl_certificate_key "$pki/untrusted.key";
	}
	server {
		listen 127.0.0.1:$http_port;
		location /redirect/ { rewrite ^/redirect/(.*)\$ http://127.0.0.1:$http_port/\$1 permanent; }
		include "$dir/server.d/*.conf";
	}
}
EOF
}

start() {
	[ -x "$NGINX" ] || die "nginx is not installed ($NGINX)"
	local pid
	pid=$(running_pid)
	[ -z "$pid" ] || die "an nginx for $dir is already running (PID $pid); stop it first"
	mkdir -p "$dir/www" "$dir/logs" "$dir/tmp" "$dir/server.d"
	make_pki
	local attempt ports
	for attempt in 1 2 3 4 5; do
		read -r port wrongname_port untrusted_port http_port <<<"$(free_ports 4)"
		write_conf
		rm -f "$dir/nginx.pid"
		: >"$dir/logs/error.log"
		if "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" 2>"$dir/logs/start.log"; then
			break
		fi
		grep -q "Address already in use" "$dir/logs/start.log" "$dir/logs/error.log" ||
			die "nginx did not start: $(grep -h emerg "$dir/logs/start.log" "$dir/logs/error.log" | head -1)"
		[ "$attempt" -lt 5 ] || die "nginx did not start: no free ports after 5 attempts"
	done
	# daemon on: the parent returns once the master has bound the ports; the master writes its PID
	for _ in $(seq 50); do
		pid=$(running_pid)
		[ -n "$pid" ] && break
		sleep 0.1
	done
	[ -n "$pid" ] || die "nginx started but wrote no PID to $dir/nginx.pid: $(head -1 "$dir/logs/error.log")"
	echo "PORT=$port WRONGNAME_PORT=$wrongname_port UNTRUSTED_PORT=$untrusted_port HTTP_PORT=$http_port PID=$pid"
}

[ $# -eq 2 ] && { [ "$1" = start ] || [ "$1" = stop ]; } || die "usage: nginx.sh start|stop DIR"
if [ "$1" = stop ] && [ ! -d "$2" ]; then
	exit 0
fi
mkdir -p "$2" || die "cannot create $2"
dir=$(cd "$2" && pwd -P)
pki=$dir/pki
pidfile=$dir/nginx.pid
# the master's title is "nginx: master process /usr/sbin/nginx -p DIR -c DIR/nginx.conf"
marker=$dir/nginx.conf
case $1 in
start) start ;;
stop) stop_server ;;
esac
