#!/usr/bin/env bash
# The shipped nginx site (deploy/nginx/loyalty-admin.conf + loyalty-admin-proxy.conf) in front of a
# real loyalty-admin and a real redis-server, through a real nginx (Debian nginx-light):
#   - the site as shipped passes `nginx -t` once only what an operator must replace is replaced
#     (server name and certificate paths: a self-signed pair made here; the upstream port; the
#     listen ports, unprivileged; the snippet's path);
#   - over TLS the console answers through the proxy: a login and GET /api/me work end to end;
#   - every answer carries the edge's security headers (HSTS, nosniff, DENY, no-referrer), also
#     an error; the operations endpoints (/metrics, /health, /ready) are not forwarded (404);
#   - plain HTTP is redirected to https; the Server header does not give nginx's version.
# Owner: the operations engineer.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "nginx missing: deploy/setup.sh installs nginx-light" >&2; exit 1; }

start_redis
write_config 1
start_admin_api
echo 'marketing-secret-1' | "$ADM" --config "$T/gw.json" --add-user mia --role marketing >/dev/null
ADM_PORT=$(cat "$T/adm.port")

# ------------------------------------------------------------------ the site, as an operator fills it in
mkdir -p "$T/nginx/snippets" "$T/nginx/logs" "$T/nginx/tmp"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=console.test" \
  -keyout "$T/nginx/console.key" -out "$T/nginx/console.pem" 2>/dev/null ||
  { fail "openssl could not make a test certificate"; finish; }
pick_port; HTTPS_PORT=$SMSC_PORT
pick_port; HTTP_PORT=$SMSC_PORT
cp "$LGW_SRC/deploy/nginx/loyalty-admin-proxy.conf" "$T/nginx/snippets/"
sed -e "s|console.example.net|console.test|g" \
    -e "s|/etc/ssl/certs/console.test.pem|$T/nginx/console.pem|" \
    -e "s|/etc/ssl/private/console.test.key|$T/nginx/console.key|" \
    -e "s|/etc/nginx/snippets/|$T/nginx/snippets/|g" \
    -e "s|127.0.0.1:8081|127.0.0.1:$ADM_PORT|" \
    -e "s|listen 443 |listen 127.0.0.1:$HTTPS_PORT |; s|listen \[::\]:443 .*||" \
    -e "s|listen 80;|listen 127.0.0.1:$HTTP_PORT;|; s|listen \[::\]:80;||" \
    "$LGW_SRC/deploy/nginx/loyalty-admin.conf" >"$T/nginx/site.conf"
# Only those lines may differ from the shipped site: the rest is tested as shipped.
assert_eq 0 "$(diff "$LGW_SRC/deploy/nginx/loyalty-admin.conf" "$T/nginx/site.conf" |
  grep '^>' | grep -v -e console.test -e "$T/nginx" -e "127.0.0.1:$ADM_PORT" \
    -e "listen 127.0.0.1:" -e '^> *$' | wc -l)" "only names, paths and ports were filled in"
cat >"$T/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log;
events { worker_connections 64; }
http {
    access_log $T/nginx/logs/access.log;
    client_body_temp_path $T/nginx/tmp/body;
    proxy_temp_path $T/nginx/tmp/proxy;
    include $T/nginx/site.conf;
}
EOF
if "$NGINX" -t -p "$T/nginx" -c "$T/nginx/nginx.conf" >"$T/nginx/t.out" 2>&1; then
  echo "ok - nginx -t accepts the shipped site"
else
  fail "nginx -t: $(cat "$T/nginx/t.out")"
  finish
fi
"$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" -g 'daemon off;' 2>>"$T/nginx/logs/stderr" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
E="https://console.test:$HTTPS_PORT"
R=(--resolve "console.test:$HTTPS_PORT:127.0.0.1" --cacert "$T/nginx/console.pem")
wait_for 20 curl -s -o /dev/null "${R[@]}" "$E/" || fail "nginx does not answer over TLS"

# ------------------------------------------------------------------ through the edge
code=$(curl -s -D "$T/h.txt" -o "$T/b.json" -w '%{http_code}' "${R[@]}" -X POST \
  -H 'Content-Type: application/json' --data '{"user":"mia","password":"marketing-secret-1"}' \
  "$E/api/login")
assert_eq 200 "$code" "a login over TLS through nginx"
TOKEN=$(jq -r .token "$T/b.json")
code=$(curl -s -o "$T/b.json" -w '%{http_code}' "${R[@]}" -H "Authorization: Bearer $TOKEN" "$E/api/me")
assert_eq "200 mia" "$code $(jq -r .user "$T/b.json")" "GET /api/me with the session, through nginx"
for h in 'strict-transport-security: max-age=63072000' 'x-content-type-options: nosniff' \
         'x-frame-options: DENY' 'referrer-policy: no-referrer'; do
  grep -qi "^$h" "$T/h.txt" && echo "ok - header ${h%%:*}" || fail "missing header $h"
done
code=$(curl -s -D "$T/h2.txt" -o /dev/null -w '%{http_code}' "${R[@]}" "$E/api/me")
assert_eq 401 "$code" "no token: the console's 401 passes through"
grep -qi '^strict-transport-security:' "$T/h2.txt" && echo "ok - security headers on an error too" ||
  fail "no HSTS on an error answer"
grep -qi '^server: nginx/' "$T/h2.txt" && fail "the Server header gives nginx's version" ||
  echo "ok - server_tokens off"
for p in /metrics /health /ready; do
  assert_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' "${R[@]}" "$E$p")" "$p is not forwarded"
done
assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADM_PORT/health")" \
  "... while loyalty-admin still answers it on loopback"
loc=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: console.test' \
  "http://127.0.0.1:$HTTP_PORT/api/me")
assert_eq "301 https://console.test/api/me" "$loc" "plain HTTP is redirected to https"

kill -TERM "$NGINX_PID" 2>/dev/null || true
wait "$NGINX_PID" 2>/dev/null || true
finish
