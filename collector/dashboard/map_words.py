"""The dashboard's words for the overview's map (collector/dashboard/geomap.py, templates/_map.html).
Merged into collector/dashboard/i18n.py's catalogue."""

from __future__ import annotations

MAP_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "map.title": "Carte",
        "map.label": "Carte des écoles affichées, colorées par niveau ; un point ouvre la page de l'école",
        "map.without_position": "{n} école(s) sans coordonnées dans l'annuaire, absente(s) de la carte.",
        "map.too_many": "{n} écoles : trop pour un point chacune. Chaque département est teinté selon la "
                        "part de ses écoles évaluées qui ne sont pas prêtes ; un clic l'affiche seul.",
        "map.label_departements": "Carte des départements, teintés selon la part des écoles non prêtes ; "
                                  "un département ouvre sa liste",
        "map.departement_title": "{name} ({code}) : {n} école(s), {not_ready} non prête(s) sur {judged} "
                                 "évaluée(s)",
        "map.share-0": "aucune école non prête",
        "map.share-1": "moins d'un quart non prêtes",
        "map.share-2": "d'un quart à la moitié non prêtes",
        "map.share-3": "la moitié ou plus non prêtes",
        "map.share-none": "aucune école évaluée",
        "map.none": "Aucune école affichée n'a de coordonnées dans l'annuaire.",
        "map.source": "Contours : IGN ADMIN EXPRESS (Licence Ouverte Etalab 2.0), simplifiés.",
    },
    "en": {
        "map.title": "Map",
        "map.label": "Map of the schools listed, coloured by level; a point opens the school's page",
        "map.without_position": "{n} school(s) without coordinates in the directory, not on the map.",
        "map.too_many": "{n} schools: too many for one point each. Each département is shaded by the share "
                        "of its judged schools that are not ready; a click shows it alone.",
        "map.label_departements": "Map of the départements, shaded by the share of schools not ready; "
                                  "a département opens its list",
        "map.departement_title": "{name} ({code}): {n} school(s), {not_ready} not ready of {judged} judged",
        "map.share-0": "no school not ready",
        "map.share-1": "under a quarter not ready",
        "map.share-2": "a quarter to half not ready",
        "map.share-3": "half or more not ready",
        "map.share-none": "no school judged",
        "map.none": "None of the schools listed has coordinates in the directory.",
        "map.source": "Outlines: IGN ADMIN EXPRESS (Licence Ouverte Etalab 2.0), simplified.",
    },
}
