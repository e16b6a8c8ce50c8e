#!/usr/bin/env bash
# `dkim keygen`: an Ed25519 and an RSA key, each mode 600 next to the
# configuration, with the TXT record that publishes its public half (checked
# against the key with openssl) and the [dkim] lines; a second keygen for the
# same selector refuses to overwrite; bad selectors, domains and types are
# refused; the domain comes from --domain, [dkim] domain, or [general] domain.
LK=$1
. "$(dirname "$0")/lib.bash"
command -v openssl >/dev/null || { echo "openssl missing"; exit 1; }

lk init --dir "$T" --domain lists.example.org >/dev/null

# p= of a TXT value as the key file says it should be.
pub_ed25519() { openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | base64 -w0; }
pub_rsa() { openssl pkey -in "$1" -pubout -outform DER | base64 -w0; }
txt_of() { sed -n 's/^  value: //p' <<<"$1"; }

out=$(lk dkim keygen sel1 --type ed25519)
k="$T/dkim-sel1.pem"
check "ed25519: key file is mode 600" [ "$(stat -c %a "$k")" = 600 ]
check "ed25519: a PKCS#8 PEM key" grep -q "BEGIN PRIVATE KEY" "$k"
check "ed25519: record name" grep -qF "name:  sel1._domainkey.lists.example.org" <<<"$out"
check "ed25519: TXT value is the public key" \
  [ "$(txt_of "$out")" = "v=DKIM1; k=ed25519; p=$(pub_ed25519 "$k")" ]
check "ed25519: p= is 44 characters" grep -qE '^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$' <<<"$(txt_of "$out")"
check "ed25519: config lines" grep -qF "selector = sel1" <<<"$out"
check "ed25519: key_file relative to the config" grep -qxF "  key_file = dkim-sel1.pem" <<<"$out"
check "ed25519: domain line" grep -qxF "  domain = lists.example.org" <<<"$out"

out=$(lk dkim keygen sel2 --type rsa)
k2="$T/dkim-sel2.pem"
check "rsa: key file is mode 600" [ "$(stat -c %a "$k2")" = 600 ]
check "rsa: 2048 bits" grep -q "2048 bit" <<<"$(openssl pkey -in "$k2" -noout -text 2>/dev/null | head -1)"
check "rsa: TXT value is the public key" [ "$(txt_of "$out")" = "v=DKIM1; k=rsa; p=$(pub_rsa "$k2")" ]
check "rsa: zone form splits strings at 255" \
  awk '/IN TXT/ { n = split($0, a, "\""); for (i = 2; i < n; i += 2) if (length(a[i]) > 255) exit 1; f = 1 } END { exit !f }' <<<"$out"
check "rsa is the default type" bash -c "'$LK' dkim keygen sel3 | grep -q 'k=rsa;'"

sum=$(sha256sum "$k")
if err=$(lk dkim keygen sel1 --type ed25519 2>&1); then bad "second keygen overwrote"; else
  rc=$?
  check "second keygen refused with 73" [ "$rc" -eq 73 ]
  check "second keygen says why" grep -q "already exists" <<<"$err"
fi
lk dkim keygen sel1 --type rsa >/dev/null 2>&1 && bad "keygen of another type overwrote" || ok "another type does not overwrite either"
check "the key is unchanged" [ "$sum" = "$(sha256sum "$k")" ]

out=$(lk dkim keygen sel4 --type ed25519 --domain news.example.net --out "$T/elsewhere.pem")
check "--out writes there, mode 600" [ "$(stat -c %a "$T/elsewhere.pem")" = 600 ]
check "--out: key_file is absolute" grep -qxF "  key_file = $T/elsewhere.pem" <<<"$out"
check "--domain names the record" grep -qF "sel4._domainkey.news.example.net" <<<"$out"
out=$(LISTKEEPER_DKIM_DOMAIN=dkim.example.com lk dkim keygen sel5 --type ed25519)
check "[dkim] domain comes before [general] domain" grep -qF "sel5._domainkey.dkim.example.com" <<<"$out"

for s in "../x" "a b" "-x" "x-" "a..b" "" "sel/1"; do
  if lk dkim keygen "$s" >/dev/null 2>&1; then bad "selector '$s' accepted"; else
    check "selector '$s' refused with 64" [ $? -eq 64 ]
  fi
done
lk dkim keygen sel6 --domain 'bad domain' >/dev/null 2>&1 && bad "bad domain accepted" || ok "bad domain refused"
lk dkim keygen sel6 --type dsa >/dev/null 2>&1 && bad "--type dsa accepted" || ok "--type dsa refused"
check "nothing written for refused commands" [ ! -e "$T/dkim-sel6.pem" ]
check "--help" bash -c "'$LK' dkim keygen --help | grep -q '^usage: listkeeper dkim keygen'"
check "dkim --help" bash -c "'$LK' dkim --help | grep -q 'SELECTOR._domainkey.DOMAIN'"
lk dkim >/dev/null 2>&1 && bad "dkim without a subcommand accepted" || ok "dkim without a subcommand is a usage error"
finish
