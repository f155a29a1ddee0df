#!/usr/bin/env bash
# The one-shot setup containers of docker-compose.yml, run as root in the Elasticsearch image (as
# in Elastic's own compose example, which has elasticsearch-certutil):
#   compose-setup.sh certs  before Elasticsearch starts: a CA, a certificate for Elasticsearch's
#                           HTTP and transport layers and one for esgate's listener
#   compose-setup.sh user   once Elasticsearch is healthy: the role esgate_gateway and the user
#                           esgate, whose generated password is written where only esgate reads it
# Both are idempotent: what exists is kept, so `docker compose up` after a restart changes nothing.
# Volumes: /ca (the CA key, mounted here only), /usr/share/elasticsearch/config/certs (what
# Elasticsearch reads), /esgate-secrets (what esgate reads, at /run/secrets/esgate).
set -euo pipefail
umask 077

# The defaults are the compose stack's; tests/integration/test_deploy.py overrides them.
ca=${SETUP_CA_DIR:-/ca}
es_certs=${SETUP_ES_CERTS_DIR:-/usr/share/elasticsearch/config/certs}
out=${SETUP_ESGATE_SECRETS_DIR:-/esgate-secrets}
esgate_uid=${SETUP_ESGATE_UID:-10001}   # the esgate user of the Dockerfile
es_url=${SETUP_ES_URL:-https://elasticsearch:9200}
role_file=${SETUP_ROLE_FILE:-/setup/es-upstream-role.json}
tmp=${TMPDIR:-/tmp}
certutil=/usr/share/elasticsearch/bin/elasticsearch-certutil

make_certs() {
  if [ ! -f "$ca/ca.key" ]; then
    echo "setup: creating the CA"
    "$certutil" ca --silent --pem --days 3650 --out "$ca/ca.zip"
    unzip -q -o -j "$ca/ca.zip" -d "$ca"  # ca.crt, ca.key
    rm "$ca/ca.zip"
  fi
  if [ ! -f "$ca/certs/elasticsearch/elasticsearch.crt" ]; then
    echo "setup: creating certificates for elasticsearch and esgate"
    {
      echo "instances:"
      echo "  - name: elasticsearch"
      echo "    dns: [elasticsearch, localhost]"
      echo "    ip: [127.0.0.1]"
      echo "  - name: esgate"
      echo "    dns:"
      echo "      - esgate"
      echo "      - localhost"
      # the name clients use to reach the gateway, if not localhost (.env: ESGATE_HOSTNAME)
      if [ -n "${ESGATE_HOSTNAME:-}" ] && [ "$ESGATE_HOSTNAME" != localhost ]; then
        echo "      - $ESGATE_HOSTNAME"
      fi
      echo "    ip: [127.0.0.1]"
    } > "$ca/instances.yml"
    "$certutil" cert --silent --pem --days 825 --in "$ca/instances.yml" --out "$ca/certs.zip" \
      --ca-cert "$ca/ca.crt" --ca-key "$ca/ca.key"
    rm -rf "$ca/certs"
    unzip -q -o "$ca/certs.zip" -d "$ca/certs"  # <name>/<name>.crt, <name>/<name>.key
    rm "$ca/certs.zip"
  fi

  # Elasticsearch runs as uid 1000, gid 0: group-readable by root, as in Elastic's example.
  mkdir -p "$es_certs/ca" "$es_certs/elasticsearch"
  cp "$ca/ca.crt" "$es_certs/ca/ca.crt"
  cp "$ca/certs/elasticsearch/elasticsearch.crt" "$ca/certs/elasticsearch/elasticsearch.key" \
    "$es_certs/elasticsearch/"
  chown -R root:root "$es_certs"
  find "$es_certs" -type d -exec chmod 0750 {} +
  find "$es_certs" -type f -exec chmod 0640 {} +

  # esgate: its own key and certificate, and the CA to verify Elasticsearch with.
  mkdir -p "$out/tls"
  cp "$ca/ca.crt" "$out/tls/ca.crt"
  cp "$ca/certs/esgate/esgate.crt" "$out/tls/esgate.crt"
  cp "$ca/certs/esgate/esgate.key" "$out/tls/esgate.key"
  fix_secrets
  echo "setup: certificates ready"
}

fix_secrets() {
  chown -R "$esgate_uid:$esgate_uid" "$out"
  find "$out" -type d -exec chmod 0500 {} +
  find "$out" -type f -exec chmod 0400 {} +
}

# api METHOD PATH < json: a request as the elastic superuser; any non-2xx answer ends the setup
# with Elasticsearch's error. The password goes through a curl config file, not the command line
# (which `ps` on the host shows).
api() {
  local code
  code=$(curl -sS -o "$tmp/api.out" -w '%{http_code}' --cacert "$ca/ca.crt" -K "$tmp/curl-auth" \
    -X "$1" -H 'Content-Type: application/json' --data-binary @- "$es_url$2")
  if [ "${code:0:1}" != 2 ]; then
    echo "setup: $1 $2 answered HTTP $code: $(head -c 2000 "$tmp/api.out")" >&2
    exit 1
  fi
}

make_user() {
  if [ -z "${ELASTIC_PASSWORD:-}" ]; then
    echo "setup: set ELASTIC_PASSWORD in .env (see README \"Deployment\")" >&2
    exit 1
  fi
  printf 'user = "elastic:%s"\n' "$(printf '%s' "$ELASTIC_PASSWORD" | sed 's/[\\"]/\\&/g')" \
    > "$tmp/curl-auth"

  # What esgate may do upstream: the ceiling of every role esgate grants (README "Deployment").
  api PUT /_security/role/esgate_gateway < "$role_file"

  if [ ! -s "$out/es-password" ]; then
    # 32 characters of base64url: 192 random bits.
    head -c 24 /dev/urandom | base64 | tr '+/' '-_' > "$out/es-password.tmp"
    mv "$out/es-password.tmp" "$out/es-password"
  fi
  local password
  password=$(cat "$out/es-password")
  printf '{"password":"%s","roles":["esgate_gateway"],"full_name":"esgate gateway"}' "$password" |
    api PUT /_security/user/esgate
  fix_secrets
  rm -f "$tmp/curl-auth" "$tmp/api.out"
  echo "setup: user esgate ready (password in /run/secrets/esgate/es-password of the esgate container)"
}

case "${1:-}" in
  certs) make_certs ;;
  user) make_user ;;
  *) echo "usage: $0 certs|user" >&2; exit 2 ;;
esac
