#!/bin/sh
# The agent's translations (agent/i18n.py): re-extract the template from the code, merge it into each
# catalogue, compile the catalogues. Needs GNU gettext (Debian: apt-get install gettext).
#   scripts/i18n.sh          extract, merge, compile
#   scripts/i18n.sh compile  compile only (what a translator runs after editing a .po)
set -eu
cd "$(dirname "$0")/.."
LOCALE=agent/locale
if [ "${1:-}" != compile ]; then
    xgettext --language=Python --keyword=_ --keyword=N_ --from-code=UTF-8 --add-comments=TRANSLATORS \
        --package-name=socle-agent --no-location --sort-output -o "$LOCALE/socle-agent.pot" agent/*.py
    for po in "$LOCALE"/*/LC_MESSAGES/socle-agent.po; do
        msgmerge --quiet --update --backup=none --no-fuzzy-matching --sort-output "$po" "$LOCALE/socle-agent.pot"
    done
fi
for po in "$LOCALE"/*/LC_MESSAGES/socle-agent.po; do
    msgfmt --check --output-file="${po%.po}.mo" "$po"
done
