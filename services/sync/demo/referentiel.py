"""Fixed tables behind the fictional exports: names, places, codes of the nomenclature (all ISO-8859-15 writable).

Names mix common French names with accents, hyphens, apostrophes and the œ ligature (which exists in latin-9, not in
latin-1). Places are in Meurthe-et-Moselle; e-mail domains are the reserved example.* ones (RFC 2606) and telephone
numbers use the ranges ARCEP keeps for fiction (01 99 00…, 06 39 98…): demo data never reaches a real person.
"""

from __future__ import annotations

from typing import Final, NamedTuple

SURNAMES: Final = (
    "MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY", "MOREAU", "SIMON",
    "LAURENT", "LEFÈVRE", "MICHEL", "GARCIA", "DAVID", "BERTRAND", "ROUX", "VINCENT", "FOURNIER", "MOREL", "GIRARD",
    "ANDRÉ", "MERCIER", "DUPONT", "LAMBERT", "BONNET", "FRANÇOIS", "MARTINEZ", "LEGRAND", "GARNIER", "FAURE",
    "ROUSSEAU", "BLANC", "GUÉRIN", "MULLER", "HENRY", "ROUSSEL", "NICOLAS", "PERRIN", "MORIN", "MATHIEU", "CLÉMENT",
    "GAUTHIER", "DUMONT", "LOPEZ", "FONTAINE", "CHEVALIER", "ROBIN", "MASSON", "GÉRARD", "NGUYEN", "BOYER", "DENIS",
    "LEMAIRE", "DUVAL", "JOLY", "ROCHE", "NOËL", "MEYER", "LUCAS", "MEUNIER", "PÉREZ", "MARCHAND", "DUFOUR",
    "BLANCHARD", "BARBIER", "BRUNET", "SCHMITT", "LEROUX", "COLIN", "FERNANDEZ", "RENARD", "ARNAUD", "CARON",
    "AUBERT", "GIRAUD", "LECLERC", "VIDAL", "BOURGEOIS", "RENAUD", "LEMOINE", "PICARD", "GAILLARD", "LACROIX",
    "HUBERT", "RIVIÈRE", "LE GALL", "RÉMY", "MOULIN", "CŒUR", "LEBŒUF", "ŒUVRARD", "D'ALMEIDA", "N'DIAYE",
    "L'HÔTE", "DE LA FONTAINE", "SAINT-JUST", "CHÂTELAIN", "BENOÎT", "HÉBERT", "MAÎTRE", "THIÉBAUT", "JACQUEMIN",
    "HUMBERT", "MANGIN", "COLLIGNON", "GÉRARDIN", "DIDIER", "SCHNEIDER", "KLEIN", "WEBER", "HOFFMANN", "BECKER",
    "DA SILVA", "DOS SANTOS", "FERREIRA", "HADDAD", "BENALI", "BEN SAÏD", "DIALLO", "TRAORÉ", "YILMAZ", "ÖZTÜRK",
    "PHAM", "KOWALSKI", "ROSSI", "DE SOUSA", "LEFEBVRE-DESCHAMPS", "DUPRÉ", "BOUCHÉ", "CÔTÉ",
)

GIRLS: Final = (
    "Emma", "Jade", "Louise", "Alice", "Chloé", "Lina", "Léa", "Mila", "Inès", "Ambre", "Anna", "Julia", "Rose",
    "Léna", "Zoé", "Manon", "Camille", "Éloïse", "Maëlys", "Héloïse", "Anaïs", "Clémence", "Noémie", "Océane",
    "Agathe", "Jeanne", "Romane", "Margaux", "Lou-Anne", "Marie-Ève", "Zoë", "Naëlle", "Maïwenn", "Bérénice",
    "Aïcha", "Yasmine", "Salomé", "Thaïs", "Élise", "Capucine", "Anaëlle", "Gaëlle", "Fatoumata", "Marie",
)
BOYS: Final = (
    "Gabriel", "Léo", "Raphaël", "Louis", "Arthur", "Jules", "Adam", "Lucas", "Maël", "Hugo", "Noah", "Sacha",
    "Gabin", "Nathan", "Mathéo", "Théo", "Ethan", "Noé", "Timéo", "Aaron", "Baptiste", "Clément", "Loïc", "Anaël",
    "Benoît", "François", "Jean-Baptiste", "Pierre-Louis", "Noël", "Gaëtan", "Rayan", "Ibrahim", "Mohamed", "Yanis",
    "Ilyès", "Élie", "Éloi", "Côme", "Jérémie", "Joachim", "Kélian", "Amaury", "Zinédine", "Erwann",
)
MOTHERS: Final = (
    "Sophie", "Nathalie", "Isabelle", "Céline", "Stéphanie", "Sandrine", "Valérie", "Aurélie", "Émilie", "Laëtitia",
    "Virginie", "Séverine", "Hélène", "Véronique", "Karine", "Delphine", "Anne-Sophie", "Marie-Noëlle", "Fatima",
    "Nadia", "Élodie", "Mélanie", "Julie", "Audrey", "Gwendoline", "Chloé", "Agnès", "Bérangère", "Maryse", "Aïssatou",
)
FATHERS: Final = (
    "Julien", "Nicolas", "Sébastien", "Stéphane", "Christophe", "Frédéric", "Jérôme", "Laurent", "Olivier", "Cédric",
    "Grégory", "Thierry", "Hervé", "François", "Jean-François", "Jean-Michel", "Loïc", "Benoît", "Mickaël", "Raphaël",
    "Karim", "Mehdi", "Rachid", "Yannick", "Ludovic", "Guillaume", "Anthony", "Joël", "Mamadou", "Pierre-Étienne",
)
GRANDMOTHERS: Final = ("Odette", "Monique", "Josiane", "Michèle", "Ginette", "Noëlle", "Françoise", "Geneviève")
GRANDFATHERS: Final = ("Gérard", "Jean-Pierre", "Bernard", "René", "André", "Jean-Noël", "Raymond", "Maurice")


class Town(NamedTuple):
    """A commune of the establishment's area (CODE_COMMUNE_INSEE only where it is certain)."""

    name: str
    postcode: str
    insee: str | None
    weight: int


TOWNS: Final = (
    Town("NANCY", "54000", "54395", 30), Town("VANDŒUVRE-LÈS-NANCY", "54500", "54547", 10),
    Town("LAXOU", "54520", "54304", 5), Town("VILLERS-LÈS-NANCY", "54600", "54578", 5),
    Town("MAXÉVILLE", "54320", "54357", 4), Town("MALZÉVILLE", "54220", "54339", 4),
    Town("SAINT-MAX", "54130", "54482", 3), Town("ESSEY-LÈS-NANCY", "54270", "54184", 3),
    Town("TOMBLAINE", "54510", "54526", 3), Town("JARVILLE-LA-MALGRANGE", "54140", "54274", 3),
    Town("HEILLECOURT", "54180", None, 2), Town("LUDRES", "54710", None, 2), Town("SEICHAMPS", "54280", None, 2),
    Town("SAINT-NICOLAS-DE-PORT", "54210", None, 2), Town("DOMBASLE-SUR-MEURTHE", "54110", None, 2),
    Town("NEUVES-MAISONS", "54230", None, 2), Town("LIVERDUN", "54460", None, 1),
    Town("LUNÉVILLE", "54300", "54329", 2), Town("PONT-À-MOUSSON", "54700", "54431", 1),
    Town("TOUL", "54200", "54528", 1),
)
TOWN_WEIGHTS: Final = tuple(town.weight for town in TOWNS)

STREETS: Final = (
    "RUE DE LA MONNAIE", "AVENUE DU GÉNÉRAL LECLERC", "RUE SAINT-DIZIER", "RUE DES QUATRE ÉGLISES",
    "BOULEVARD D'AUSTRASIE", "RUE JEANNE D'ARC", "ALLÉE DES TILLEULS", "RUE DE LA HACHE", "RUE DU CŒUR VOLANT",
    "CHEMIN DES BŒUFS", "IMPASSE DES ÉCOLES", "RUE DE L'ÉGLISE", "RUE VICTOR HUGO", "RUE JEAN JAURÈS",
    "AVENUE DE LA LIBÉRATION", "RUE PASTEUR", "RUE DES JARDINS", "RUE DU MOULIN", "PLACE DES VOSGES",
    "RUE DU FAUBOURG SAINT-GEORGES", "RUE DE LA RÉPUBLIQUE", "RUE DES SŒURS MACARONS", "QUAI CLAUDE LE LORRAIN",
    "RUE DU GRAND-VERGER", "AVENUE DE BOUFFLERS", "RUE ÉMILE GALLÉ", "RUE DES ÉTATS-UNIS", "RUE DE L'ABBÉ GRÉGOIRE",
    "CHEMIN DU CHÂTEAU D'EAU", "RUE DES PRÉS", "RUE DE LA FORÊT", "ALLÉE DES PEUPLIERS", "RUE LÉON BLUM",
    "RUE DU 8 MAI 1945", "LIEU-DIT LA CÔTE", "RUE DES ÉCOLIERS", "RUE HÉRÉ", "RUE DE MON DÉSERT",
)
COMPLEMENTS: Final = (
    "APPARTEMENT 12", "BÂTIMENT B", "RÉSIDENCE LES GLYCINES", "ESCALIER C 3E ÉTAGE", "CHEZ MME HUMBERT",
    "RÉSIDENCE LE CLOS DU ROI", "APPT 204",
)


class Abroad(NamedTuple):
    """An address outside France (COMMUNE_ETRANGERE instead of CODE_POSTAL and LIBELLE_POSTAL)."""

    street: str
    commune: str
    code_pays: str
    pays: str


ABROAD: Final = (
    Abroad("12 RUE DE HOLLERICH", "L-1741 LUXEMBOURG", "137", "LUXEMBOURG"),
    Abroad("RUE SAINT-GILLES 40", "4000 LIÈGE", "131", "BELGIQUE"),
    Abroad("BAHNHOFSTRASSE 8", "66111 SAARBRÜCKEN", "109", "ALLEMAGNE"),
    Abroad("7 ROUTE D'ARLON", "L-8009 STRASSEN", "137", "LUXEMBOURG"),
)


class Birthplace(NamedTuple):
    """VILLE_NAISS, CODE_PAYS, CODE_DEPARTEMENT_NAISS, CODE_COMMUNE_INSEE_NAISS (the last two in France only)."""

    ville: str
    code_pays: str
    departement: str | None
    insee: str | None


BIRTHPLACES: Final = (
    Birthplace("NANCY", "100", "054", "54395"), Birthplace("NANCY", "100", "054", "54395"),
    Birthplace("NANCY", "100", "054", "54395"), Birthplace("METZ", "100", "057", "57463"),
    Birthplace("ÉPINAL", "100", "088", "88160"), Birthplace("VERDUN", "100", "055", "55545"),
    Birthplace("STRASBOURG", "100", "067", "67482"), Birthplace("PARIS", "100", "075", "75056"),
    Birthplace("LUNÉVILLE", "100", "054", "54329"), Birthplace("THIONVILLE", "100", "057", "57672"),
    Birthplace("REIMS", "100", "051", "51454"), Birthplace("TOUL", "100", "054", "54528"),
    Birthplace("CASABLANCA", "350", None, None), Birthplace("ALGER", "352", None, None),
    Birthplace("DAKAR", "341", None, None), Birthplace("LISBONNE", "139", None, None),
    Birthplace("BRUXELLES", "131", None, None), Birthplace("KYIV", "155", None, None),
)

EMAIL_DOMAINS: Final = ("example.org", "example.net", "example.com", "mail.example.org", "courriel.example.net")
PROFESSIONS: Final = ("10", "21", "22", "23", "31", "33", "34", "37", "38", "42", "43", "46", "47", "48", "52", "53",
                      "54", "55", "56", "62", "63", "67", "69", "73", "76", "81", "84", "99")

COLLEGE_MEFS: Final = (
    # (CODE_MEF, FORMATION, LIBELLE_LONG, LIBELLE_EDITION, CODE_MEFSTAT), from 6e to 3e
    ("10010012110", "6EME", "6EME", "6ème", "21110010001"),
    ("10110001110", "5G", "5EME", "5ème", "21110020001"),
    ("10210001110", "4G", "4EME", "4ème", "21110030001"),
    ("10310019110", "3G", "3EME", "3ème", "21110040001"),
)
GRADES: Final = ("6", "5", "4", "3")

REGIMES: Final = (
    ("0", "EXTERN", "EXTERNE LIBRE"), ("1", "EX.SUR", "EXTERNE SURVEILLE"),
    ("2", "DP DAN", "DEMI-PENSIONNAIRE DANS L'ETABLISSEMENT"),
    *((f"2{days}", f"DP {days} J", f"DEMI-PENSIONNAIRE {days} JOUR{'S' if days > 1 else ''}") for days in range(1, 7)),
    ("29", "TICKET", "DEMI-PENSIONNAIRE AU TICKET"), ("3", "INTERN", "INTERNE DANS L'ETABLISSEMENT"),
    *((f"3{days}", f"INT {days}J", f"INTERNE {days} JOUR{'S' if days > 1 else ''}") for days in range(1, 7)),
    ("38", "1/2 IN", "DEMI-INTERNE"), ("39", "INT WE", "INTERNE WEEK-END"), ("4", "IN.EX.", "INTERNE EXTERNE"),
    ("5", "IN.HEB", "INTERNE HEBERGE"), ("6", "DP HOR", "DEMI-PENSIONNAIRE HORS L'ETABLISSEMENT"),
)
PUPIL_REGIMES: Final = ("2", "0", "24", "23", "22", "21", "1", "29", "3", "38", "6")
PUPIL_REGIME_WEIGHTS: Final = (50, 20, 8, 3, 2, 2, 3, 2, 3, 2, 2)

LIENS_PARENTE: Final = (
    ("10", "MERE", "MERE"), ("20", "PERE", "PERE"), ("37", "FRATRIE", "FRATRIE"), ("38", "ASCEND.", "ASCENDANT"),
    ("39", "AUT.FAM", "AUTRE MEMBRE DE LA FAMILLE"), ("41", "EDUCAT.", "EDUCATEUR"),
    ("42", "ASS.FAM", "ASSISTANT FAMILIAL"), ("50", "TUTEUR", "TUTEUR"), ("51", "A.S.E.", "AIDE SOCIALE A L'ENFANCE"),
    ("70", "ELEVE", "ELEVE LUI-MEME"), ("90", "AUTRE", "AUTRE LIEN"),
)
LATIN_MATIERE: Final = ("020700", "LCALA", "LCA LATIN", "LANGUES ET CULTURES DE L'ANTIQUITE LATIN")

INVALID_EMAILS: Final = ("jean.dupont@", "sans-arobase.fr")
"""The first invalid addresses written as is; the next ones are made from the person's name."""
