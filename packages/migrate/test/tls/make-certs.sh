#!/bin/sh
# Rebuilds the test-only TLS fixtures: a CA and a server certificate for 127.0.0.1 signed by it
# (valid 100 years). Never use these keys for anything else.
set -e
cd "$(dirname "$0")"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 36500 -subj "/CN=mvvm test CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 36500 -extfile san.ext 2>/dev/null
rm -f server.csr san.ext ca.srl
