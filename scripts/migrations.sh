#!/usr/bin/env bash
# Landed migrations are immutable. migrations/landed.sha256 (sha256sum format, one line per landed
# migration) records each one's hash; corrections go into a new migration.
#   scripts/migrations.sh check [DIR]  fails, naming the file, when a landed migration changed or
#                                      disappeared, when a new one sorts before a landed one, or when
#                                      git history shows a manifest line that was edited or removed
#   scripts/migrations.sh land [DIR]   appends the migrations not yet listed (run it in the commit
#                                      that lands them on main), after the same check
# DIR defaults to the repository's migrations/.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    echo "usage: scripts/migrations.sh check|land [DIR]" >&2
    exit 2
}

cmd=${1:-}
dir=${2:-migrations}
manifest="$dir/landed.sha256"
[ -d "$dir" ] || { echo "no migrations directory $dir" >&2; exit 2; }

hash_of() { sha256sum "$1" | cut -d' ' -f1; }

# Prints every problem on stderr; returns 1 if there was one.
check() {
    local status=0 line_no=0 last_landed="" hash name actual
    declare -gA landed=()
    if [ ! -f "$manifest" ]; then
        echo "missing $manifest (create it with: scripts/migrations.sh land)" >&2
        return 1
    fi
    while IFS= read -r line || [ -n "$line" ]; do
        line_no=$((line_no + 1))
        if [[ ! "$line" =~ ^([0-9a-f]{64})\ \ ([0-9]{14}_[a-z0-9_]+\.sql)$ ]]; then
            echo "$manifest:$line_no: not '<sha256>  <YYYYMMDDHHMMSS_verb_object.sql>': $line" >&2
            status=1
            continue
        fi
        hash=${BASH_REMATCH[1]}
        name=${BASH_REMATCH[2]}
        landed[$name]=$hash
        if [[ "$name" > "$last_landed" ]]; then last_landed=$name; fi
        if [ ! -f "$dir/$name" ]; then
            echo "landed migration $name has disappeared; landed migrations are never removed" >&2
            status=1
            continue
        fi
        actual=$(hash_of "$dir/$name")
        if [ "$actual" != "$hash" ]; then
            echo "landed migration $name was changed (landed sha256 $hash, now $actual); put the correction in a new migration" >&2
            status=1
        fi
    done <"$manifest"
    for f in "$dir"/*.sql; do
        [ -e "$f" ] || continue
        name=$(basename "$f")
        if [ -z "${landed[$name]+x}" ] && [[ ! "$name" > "$last_landed" ]]; then
            echo "new migration $name sorts before the landed $last_landed; give it a later timestamp" >&2
            status=1
        fi
    done
    # Where git history is at hand (not in a tarball), every committed version of the manifest must
    # survive line for line: an edited migration with a rewritten hash is caught too.
    if git -C "$dir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        local commit old
        for commit in $(git -C "$dir" log --format=%H -- landed.sha256 2>/dev/null); do
            while IFS= read -r old || [ -n "$old" ]; do
                if ! grep -qxF -- "$old" "$manifest"; then
                    echo "manifest line from commit ${commit:0:12} was edited or removed: $old" >&2
                    status=1
                fi
            done < <(git -C "$dir" show "$commit:./landed.sha256" 2>/dev/null || true)
        done
    fi
    return $status
}

case "$cmd" in
check)
    check || { echo "migration check failed (see README, Layout: migrations/)" >&2; exit 1; }
    ;;
land)
    if [ -f "$manifest" ]; then
        check || { echo "not landing: fix the problems above first" >&2; exit 1; }
    else
        declare -A landed=()
    fi
    for f in "$dir"/*.sql; do
        [ -e "$f" ] || continue
        name=$(basename "$f")
        if [ -z "${landed[$name]+x}" ]; then
            printf '%s  %s\n' "$(hash_of "$f")" "$name" >>"$manifest"
            echo "landed $name"
        fi
    done
    ;;
*) usage ;;
esac
