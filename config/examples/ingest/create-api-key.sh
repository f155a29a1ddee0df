#!/bin/sh
# Creates a create_doc-only API key for a log shipper through esgate and prints it as "id:api_key",
# the form Filebeat, Logstash and Elastic Agent take. Run it as the first-start admin, or as a user
# with the ingest-operator role (roles.yml).
#   ESGATE_URL=https://esgate.example.com:9243 ESGATE_CACERT=esgate-ca.crt \
#   ESGATE_USER=admin ESGATE_PASSWORD=... ./create-api-key.sh web-01 logs-app-default
# The password is read from the environment, never put on a command line. Needs curl >= 7.76.
set -eu

name=${1:?usage: create-api-key.sh NAME [DATA_STREAM]}
stream=${2:-logs-app-default}
url=${ESGATE_URL:-https://localhost:9243}
user=${ESGATE_USER:-admin}
: "${ESGATE_PASSWORD:?set ESGATE_PASSWORD}"
for v in "$name" "$stream"; do
  case $v in
    *[!A-Za-z0-9._-]* | "") echo "create-api-key.sh: [$v]: letters, digits, . _ - only" >&2; exit 2 ;;
  esac
done

auth=$(mktemp)
trap 'rm -f "$auth"' EXIT
chmod 600 "$auth"
printf 'user = "%s:%s"\n' "$user" "$(printf '%s' "$ESGATE_PASSWORD" | sed 's/[\\"]/\\&/g')" > "$auth"

call() {  # METHOD PATH [JSON]: prints the response body, fails on an HTTP error
  curl -sS --fail-with-body ${ESGATE_CACERT:+--cacert "$ESGATE_CACERT"} -K "$auth" -X "$1" \
    -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$url$2"
}

# 1. The data stream, so that a key without auto_configure can write into it (Elasticsearch's
#    built-in logs-*-* index template makes it a data stream). Creating it takes the admin;
#    an ingest-operator only checks that it exists.
if ! call GET "/_data_stream/$stream" >/dev/null 2>&1; then
  if ! out=$(call PUT "/_data_stream/$stream" 2>&1); then
    echo "create-api-key.sh: could not create data stream $stream: $out" >&2
    exit 1
  fi
fi

# 2. The key: create documents in log and metric data streams, GET / and GET /_license (monitor),
#    nothing else. Effective rights = these AND the creating user's current roles.
response=$(call POST /_security/api_key "{
  \"name\": \"shipper-$name\",
  \"expiration\": \"365d\",
  \"role_descriptors\": {
    \"shipper\": {
      \"cluster\": [\"monitor\"],
      \"indices\": [{\"names\": [\"logs-*\", \"metrics-*\"], \"privileges\": [\"create_doc\"]}]
    }
  },
  \"metadata\": {\"purpose\": \"log shipper\", \"host\": \"$name\"}
}")

id=$(printf '%s' "$response" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
secret=$(printf '%s' "$response" | sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')
if [ -z "$id" ] || [ -z "$secret" ]; then
  echo "create-api-key.sh: unexpected answer: $response" >&2
  exit 1
fi
printf '%s:%s\n' "$id" "$secret"
