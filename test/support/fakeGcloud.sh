#!/usr/bin/env bash
# The fake gcloud of test/support/fakeGcloud.ts (which says what it does).
set -u
state="$FAKE_GCLOUD_STATE"
printf '%s\0' "$@" >> "$state/calls"
printf '\n' >> "$state/calls"
words=()
for a in "$@"; do case "$a" in --*) ;; *) words+=("$a") ;; esac; done
verb="" group="" object=""
for i in "${!words[@]}"; do
  case "${words[$i]}" in
    create|describe|add|list)
      verb="${words[$i]}"; object="${words[$((i + 1))]:-}"; object="${object%%@*}"; break ;;
    *) group="$group ${words[$i]}" ;;
  esac
done
key="${group# }|$object"
touch "$state/resources"
case "${group# } $verb" in
  "secrets versions add")
    n=$(ls "$state" | grep -c "^version-$object-" || true)
    cat > "$state/version-$object-$n"
    echo "Created version [$((n + 1))] of the secret [$object]." >&2 ;;
  "secrets versions list")
    ls "$state" | grep -q "^version-$object-" && echo "projects/p/secrets/$object/versions/1" ;;
  *" describe")
    grep -Fxq "$key" "$state/resources" && { echo "name: $object"; exit 0; }
    echo "ERROR: (gcloud) NOT_FOUND: $object" >&2; exit 1 ;;
  *" create")
    if grep -Fxq "$key" "$state/resources"; then echo "ERROR: (gcloud) ALREADY_EXISTS: $object" >&2; exit 1; fi
    echo "$key" >> "$state/resources" ;;
esac
exit 0
