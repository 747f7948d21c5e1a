"""Data the demo generator draws from: people's names, streets, towns and clinic sites.

Names come in heritage groups so that a family name meets given names that go with it
(a Nguyễn is usually a Minh or a Thảo, not a Bartholomew). The groups deliberately cover
what a US clinic's patient list holds and what trips software up: accents (Núñez, Lefèvre),
letters that do not decompose (Łukasiewicz, Sørensen, Yılmaz), Vietnamese stacked marks
(Nguyễn, Đặng), pinyin with tone marks (Lǚ), preferred names in Han script, apostrophes
and hyphens (O'Brien, Abdel-Malik), particles with spaces (de la Cruz) and a few very long names.

Sites (:data:`METROS`) are US metro areas in several states and all four continental time
zones plus Arizona (no daylight-saving time) and Hawaii. Each lists real towns with real
ZIP codes and area codes, so a demo patient's address and phone look like the real thing.
Everything here is plain data; :mod:`ketadesk.demo.generator` does the drawing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Heritage:
    """A group of names that belong together, and how common it is (``weight``)."""

    key: str
    weight: float
    family: tuple[str, ...]
    female: tuple[str, ...]
    male: tuple[str, ...]
    # (given name, a short form its bearers go by): Katarzyna -> Kasia.
    nicknames: tuple[tuple[str, str], ...] = ()
    # Names some people of this group adopt, by sex, and how often they do.
    adopted_female: tuple[str, ...] = ()
    adopted_male: tuple[str, ...] = ()
    adopted_rate: float = 0.0
    # Middle names written after the given name, when the group has its own (Vietnamese).
    middle_female: tuple[str, ...] = ()
    middle_male: tuple[str, ...] = ()
    # Polish family names agree with the bearer's sex: Wiśniewski, Wiśniewska.
    gendered_family: bool = False


HERITAGES: tuple[Heritage, ...] = (
    Heritage(
        "general", 36.0,
        family=(
            "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
            "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Thompson", "White", "Harris",
            "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
            "Scott", "Hill", "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell",
            "Roberts", "Turner", "Phillips", "Campbell", "Parker", "Evans", "Edwards",
            "Collins", "Stewart", "Morris", "Rogers", "Reed", "Cook", "Morgan", "Bell",
            "Murphy", "Bailey", "Cooper", "Richardson", "Cox", "Howard", "Ward", "Peterson",
            "Gray", "James", "Watson", "Brooks", "Kelly", "Sanders", "Price", "Bennett",
            "Wood", "Barnes", "Ross", "Henderson", "Coleman", "Jenkins", "Perry", "Powell",
            "Long", "Patterson", "Hughes", "Flores", "Butler", "Simmons", "Foster", "Bryant",
            "Alexander", "Russell", "Griffin", "Hayes", "Myers", "Ford", "Hamilton", "Graham",
            "Sullivan", "Wallace", "Woods", "Cole", "West", "Jordan", "Owens", "Reynolds",
            "Fisher", "Ellis", "Harrison", "Gibson", "McDonald", "Marshall", "Hunt", "Lukas",
            "Luke", "Lucas", "Lund", "Lutz", "Lynch", "Stone", "Hawthorne", "Whitaker",
        ),
        female=(
            "Mary", "Jennifer", "Linda", "Elizabeth", "Susan", "Jessica", "Sarah", "Karen",
            "Lisa", "Nancy", "Sandra", "Ashley", "Emily", "Michelle", "Amanda", "Melissa",
            "Stephanie", "Rebecca", "Laura", "Amy", "Kathleen", "Anna", "Megan", "Hannah",
            "Rachel", "Lauren", "Olivia", "Emma", "Abigail", "Madison", "Chloe", "Grace",
            "Heather", "Brittany", "Danielle", "Courtney", "Lucy", "Luna", "Lydia", "Margaret",
        ),
        male=(
            "James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph",
            "Thomas", "Christopher", "Charles", "Daniel", "Matthew", "Anthony", "Mark",
            "Steven", "Paul", "Andrew", "Joshua", "Kenneth", "Kevin", "Brian", "Timothy",
            "Ryan", "Jacob", "Gary", "Nicholas", "Eric", "Jonathan", "Justin", "Scott",
            "Brandon", "Benjamin", "Samuel", "Gregory", "Patrick", "Luke", "Lucas", "Logan",
        ),
        nicknames=(
            ("Robert", "Bob"), ("William", "Bill"), ("James", "Jim"), ("Michael", "Mike"),
            ("David", "Dave"), ("Elizabeth", "Liz"), ("Elizabeth", "Beth"),
            ("Jennifer", "Jen"), ("Samuel", "Sam"), ("Christopher", "Chris"),
            ("Daniel", "Danny"), ("Margaret", "Maggie"), ("Margaret", "Peggy"),
            ("Thomas", "Tom"), ("Anthony", "Tony"), ("Nicholas", "Nick"), ("Joseph", "Joe"),
            ("Kathleen", "Kathy"), ("Rebecca", "Becky"), ("Abigail", "Abby"),
            ("Benjamin", "Ben"), ("Jonathan", "Jon"), ("Matthew", "Matt"),
            ("Stephanie", "Steph"), ("Richard", "Rick"), ("Timothy", "Tim"),
        ),
    ),
    Heritage(
        "hispanic", 17.0,
        family=(
            "García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez",
            "Sánchez", "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Reyes",
            "Morales", "Cruz", "Ortiz", "Gutiérrez", "Chávez", "Ramos", "Ruiz", "Álvarez",
            "Mendoza", "Castillo", "Jiménez", "Moreno", "Romero", "Herrera", "Medina",
            "Aguilar", "Vargas", "Castro", "Guzmán", "Fernández", "Núñez", "Peña", "Muñoz",
            "Ibáñez", "Vázquez", "de la Cruz", "De León", "del Río", "García-López",
            "Santiago", "Espinoza", "Ávila", "Luján", "Lucero", "Luna",
        ),
        female=(
            "María", "Guadalupe", "Sofía", "Camila", "Valentina", "Isabella", "Lucía",
            "Ximena", "Daniela", "Gabriela", "Ana", "Verónica", "Rocío", "Begoña", "Inés",
            "Mónica", "Adriana", "Alejandra", "Paola", "Yesenia", "Marisol", "Itzel",
        ),
        male=(
            "José", "Luis", "Juan", "Carlos", "Jesús", "Miguel", "Alejandro", "Jorge",
            "Francisco", "Antonio", "Andrés", "Sebastián", "Matías", "Diego", "Raúl",
            "Héctor", "Ramón", "Joaquín", "Iván", "Rubén", "Lucas", "Julián",
        ),
        nicknames=(
            ("Guadalupe", "Lupe"), ("José", "Pepe"), ("Francisco", "Paco"), ("Jesús", "Chuy"),
            ("María", "Maru"), ("Alejandro", "Alex"), ("Alejandra", "Ale"),
            ("Daniela", "Dani"), ("Antonio", "Toño"), ("Gabriela", "Gaby"),
            ("Sebastián", "Sebas"),
        ),
    ),
    Heritage(
        "african_american", 10.0,
        family=(
            "Washington", "Jefferson", "Jackson", "Banks", "Booker", "Mosley", "Gaines",
            "Battle", "Dorsey", "Rivers", "Holloway", "Freeman", "Okafor", "Mensah",
            "Osei", "Adeyemi", "Diallo", "Boateng", "Nwosu", "Toussaint", "Baptiste",
        ),
        female=(
            "Aaliyah", "Imani", "Keisha", "Ebony", "Tamika", "Jasmine", "Nia", "Aisha",
            "Latoya", "Shanice", "Ayana", "Chidinma", "Adaeze", "Ama", "Naomi", "Zoë",
        ),
        male=(
            "DeShawn", "Jamal", "Malik", "Darnell", "Tyrone", "Andre", "Terrell", "Marcus",
            "Kwame", "Chukwuemeka", "Oluwaseun", "Kofi", "Jean-Baptiste", "Isaiah",
        ),
        nicknames=(
            ("Andre", "Dre"), ("Chukwuemeka", "Emeka"), ("Oluwaseun", "Seun"),
            ("Shanice", "Shay"), ("Chidinma", "Dinma"), ("Jean-Baptiste", "JB"),
        ),
    ),
    Heritage(
        "chinese", 4.0,
        family=(
            "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
            "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "Lin", "Lǚ", "Chan", "Wong", "Leung",
            "Lau", "Cheung", "Ng",
        ),
        female=(
            "Fang", "Xiùyīng", "Jing", "Li", "Min", "Yan", "Mei", "Xiaoling", "Hui", "Yìng",
            "Lan", "Ying", "Qian", "Lu", "Wai Yee", "Mei Ling",
        ),
        male=(
            "Wei", "Jun", "Hao", "Lei", "Qiang", "Tao", "Bo", "Jiàn", "Yong", "Ming",
            "Chun", "Zhiwei", "Ka Wai", "Chi Keung",
        ),
        # Some go by their name in Han script; the legal name stays in pinyin for claims.
        adopted_female=("Linda", "Jenny", "Vivian", "Grace", "Lulu", "Amy", "芳", "秀英"),
        adopted_male=("Kevin", "Tony", "Eric", "Jason", "Michael", "伟", "建国", "小龙"),
        adopted_rate=0.25,
    ),
    Heritage(
        "vietnamese", 3.0,
        family=(
            "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
            "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Lưu",
        ),
        female=(
            "Thảo", "Hương", "Lan", "Linh", "Ngọc", "Trang", "Hoa", "Mai", "Phương",
            "Thủy", "Hằng", "Yến", "Nhung", "Tuyết",
        ),
        male=(
            "Minh", "Dũng", "Hùng", "Quang", "Tuấn", "Long", "Nam", "Huy", "Khoa", "Phúc",
            "Thắng", "Bảo", "Đức", "Việt",
        ),
        adopted_female=("Jenny", "Kathy", "Tina", "Lisa", "Vivian"),
        adopted_male=("Tommy", "Danny", "Vincent", "Kevin", "Peter"),
        adopted_rate=0.25,
        middle_female=("Thị", "Ngọc", "Thu", "Kim"),
        middle_male=("Văn", "Đức", "Hữu", "Quốc", "Minh"),
    ),
    Heritage(
        "korean", 2.0,
        family=("Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim"),
        female=("Ji-woo", "Seo-yeon", "Min-ji", "Soo-jin", "Hye-jin", "Eun-ji", "Yuna"),
        male=("Min-jun", "Ji-hoon", "Seung-woo", "Hyun-woo", "Dong-hyun", "Jae-won"),
        adopted_female=("Sunny", "Grace", "Esther", "Julie", "Christine"),
        adopted_male=("Jay", "Daniel", "Sam", "David", "John"),
        adopted_rate=0.25,
    ),
    Heritage(
        "south_asian", 4.0,
        family=(
            "Patel", "Shah", "Singh", "Kumar", "Reddy", "Iyer", "Desai", "Mehta", "Gupta",
            "Rao", "Chaudhary", "Banerjee", "Chatterjee", "Krishnamurthy", "Khan", "Malik",
        ),
        female=(
            "Priya", "Ananya", "Aishwarya", "Kavya", "Deepika", "Lakshmi", "Sneha", "Pooja",
            "Meera", "Sunita", "Nisha", "Ayesha",
        ),
        male=(
            "Rahul", "Arjun", "Vikram", "Rohan", "Sanjay", "Ravi", "Amit", "Karthik",
            "Harpreet", "Imran", "Venkatesh", "Sai",
        ),
        nicknames=(
            ("Vikram", "Vik"), ("Venkatesh", "Venky"), ("Lakshmi", "Lucky"),
            ("Aishwarya", "Ash"), ("Harpreet", "Harry"),
        ),
    ),
    Heritage(
        "arabic", 3.0,
        family=(
            "Al-Sayed", "Haddad", "Abdel-Malik", "El-Amin", "Khoury", "Mansour", "Nasser",
            "Hassan", "Ibrahim", "Saleh", "Al-Hashimi", "Abu-Bakr", "Farouk", "Kassab",
            "Bin Khalid", "Aziz", "Qureshi", "El-Sherif",
        ),
        female=(
            "Fatima", "Layla", "Nour", "Amira", "Yasmin", "Mariam", "Huda", "Rania",
            "Salma", "Zaynab", "Aaliyah", "Hala",
        ),
        male=(
            "Mohammed", "Ahmad", "Omar", "Yusuf", "Khalid", "Tariq", "Hamza", "Karim",
            "Mustafa", "Ali", "Bilal", "Ziad", "Abdul-Rahman",
        ),
        nicknames=(
            ("Mohammed", "Mo"), ("Yusuf", "Joe"), ("Layla", "Lily"),
            ("Nour", "Nora"), ("Abdul-Rahman", "Abdul"),
        ),
    ),
    Heritage(
        "polish", 3.0,
        family=(
            "Łukasiewicz", "Nowak", "Wójcik", "Kowalczyk", "Wiśniewski", "Zieliński",
            "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur",
            "Krawczyk", "Piotrowski", "Grabowski", "Pawłowski", "Michalski", "Król",
            "Szczęsny", "Przybylski", "Łuczak", "Lukowski",
        ),
        female=(
            "Małgorzata", "Katarzyna", "Agnieszka", "Anna", "Joanna", "Magdalena",
            "Barbara", "Ewa", "Zofia", "Łucja", "Krystyna", "Grażyna",
        ),
        male=(
            "Piotr", "Paweł", "Michał", "Krzysztof", "Tomasz", "Łukasz", "Marcin",
            "Jakub", "Andrzej", "Wojciech", "Grzegorz", "Stanisław",
        ),
        nicknames=(
            ("Katarzyna", "Kasia"), ("Małgorzata", "Gosia"), ("Joanna", "Asia"),
            ("Barbara", "Basia"), ("Jakub", "Kuba"), ("Tomasz", "Tomek"),
            ("Stanisław", "Staś"), ("Magdalena", "Magda"), ("Wojciech", "Wojtek"),
            ("Agnieszka", "Aga"), ("Łukasz", "Luke"),
        ),
        gendered_family=True,
    ),
    Heritage(
        "irish", 3.0,
        family=(
            "O'Brien", "O'Connor", "O'Neill", "O'Sullivan", "McCarthy", "Byrne", "Ryan",
            "Doyle", "Ó Súilleabháin", "Mac Giolla Phádraig", "Fitzgerald", "Kavanagh",
        ),
        female=("Siobhan", "Aoife", "Niamh", "Caoimhe", "Saoirse", "Róisín", "Bridget"),
        male=("Seán", "Ciarán", "Pádraig", "Eoin", "Cillian", "Declan", "Liam"),
        nicknames=(("Seán", "Shawn"), ("Pádraig", "Paddy"), ("Bridget", "Bridie"),
                   ("Niamh", "Neve")),
    ),
    Heritage(
        "european", 4.0,
        family=(
            "Müller", "Schröder", "Weiß", "Groß", "Lefèvre", "Béranger", "Dubois",
            "Sørensen", "Ødegård", "Åberg", "Yılmaz", "Öztürk", "Çelik", "Papadopoulos",
            "Van der Berg", "van Dijk", "Rossi", "Esposito", "Dvořák", "Novák", "Šimić",
            "Kovačević", "Petrović", "Ivanova", "Smirnov", "Lindqvist",
        ),
        female=(
            "Zoë", "Chloé", "Hélène", "Björk", "Åsa", "Ingrid", "Sigrid", "Elif", "Ayşe",
            "Giulia", "Chiara", "Jana", "Dragana", "Anastasia", "Renée", "Maëlys",
        ),
        male=(
            "Jürgen", "Søren", "Bjørn", "Håkon", "François", "Jérôme", "Emre", "Ömer",
            "Giuseppe", "Luca", "Jiří", "Dušan", "Nikolai", "Ilya", "Jean-Luc",
        ),
        nicknames=(
            ("Giuseppe", "Beppe"), ("Anastasia", "Nastya"), ("Nikolai", "Kolya"),
            ("François", "Franck"), ("Luca", "Lu"), ("Giulia", "Giuli"),
        ),
    ),
    Heritage(
        "pacific", 1.0,
        family=(
            "Kealoha", "Kahananui", "Kaʻaihue", "Akana", "Keawe", "Makoa", "Fonoti",
            "Tuiasosopo", "Faleolo", "Aumua",
        ),
        female=("Leinaʻala", "Kalena", "Malia", "Noelani", "Kaʻiulani", "Lani", "Sina"),
        male=("Kekoa", "Kaipo", "Makana", "Koa", "Keoni", "Sione", "Tavita"),
        nicknames=(("Leinaʻala", "Lei"), ("Kaʻiulani", "Lani"), ("Noelani", "Noe"),
                   ("Makana", "Kana")),
    ),
)

# (family name, given name, middle name): the long names every form must survive.
LONG_NAMES: tuple[tuple[str, str, str], ...] = (
    ("Wolfeschlegelsteinhausenbergerdorff", "Hubert", "Blaine"),
    ("Fernández de Córdoba y Montenegro-Villalobos", "María de los Ángeles", "Guadalupe"),
    ("Szczepankiewicz-Przybyłowska", "Małgorzata", "Krystyna Zofia"),
    ("Venkataraghavan Subramanian", "Lakshminarayanan", "Srinivasa"),
    ("Abdul-Rahman Al-Hashimi", "Muhammad Zain-ul-Abideen", ""),
    ("Papadopoulos-Konstantinidou", "Aikaterini", "Evangelia"),
    ("Nguyễn-Trần Hoàng", "Phương Thảo", "Thị"),
    ("Kaʻaihue-Kalanianaʻole", "Leinaʻala Keʻalohilani", ""),
)

@dataclass(frozen=True)
class Relation:
    """How an emergency contact is related to the patient."""

    label: str
    sex: str  # "F" or "M" when the word says so (Mother), "" otherwise
    shares_family_name: bool  # usually, at least
    min_patient_age: int = 18  # a 20-year-old has no adult son


RELATIONS: tuple[Relation, ...] = (
    Relation("Spouse", "", True), Relation("Spouse", "", True),
    Relation("Partner", "", False), Relation("Partner", "", False),
    Relation("Mother", "F", True), Relation("Father", "M", True),
    Relation("Sister", "F", True), Relation("Brother", "M", True),
    Relation("Friend", "", False), Relation("Roommate", "", False),
    Relation("Daughter", "F", True, 40), Relation("Son", "M", True, 40),
)

STREETS: tuple[str, ...] = (
    "Main", "Oak", "Maple", "Cedar", "Elm", "Pine", "Washington", "Lake", "Hill", "Park",
    "Sunset", "Lincoln", "Jackson", "Franklin", "Highland", "Church", "Spring", "River",
    "Willow", "Meadow", "Madison", "Jefferson", "Chestnut", "Walnut", "Sycamore", "Ridge",
    "Forest", "Prospect", "Lakeview", "Magnolia", "Dogwood", "Juniper", "Aspen", "Mesa",
    "Harbor", "Bayview", "Mountain View", "Cherry", "Birch", "Hickory", "Adams", "Monroe",
    "Grant", "Clinton", "Union", "Center", "Mill", "School", "Academy", "Orchard",
    "Peachtree", "Camino Real", "Alameda", "Vista", "Palm", "Ocean", "Colfax", "Congress",
)
STREET_TYPES: tuple[str, ...] = (
    "St", "St", "St", "Ave", "Ave", "Rd", "Blvd", "Dr", "Ln", "Ct", "Way", "Pl", "Ter",
    "Pkwy", "Cir",
)
UNIT_FORMS: tuple[str, ...] = ("Apt {n}", "Apt {n}{letter}", "Unit {n}", "#{n}", "Suite {n}")

EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.net", "example.org")
"""Reserved for examples (RFC 2606): a demo must never mail a real person."""

NOTES: tuple[str, ...] = (
    "Prefers afternoon appointments.",
    "Needle-phobic: numbing cream before IV placement.",
    "Interpreter needed; confirm language when booking.",
    "Likes a weighted blanket and eye mask during infusion.",
    "Ask about driver at every booking; has relied on rideshare before.",
    "Referred by outpatient psychiatry; send visit notes to referrer.",
    "Motion sickness: offer ondansetron before dosing.",
    "Works nights; call after 2 pm.",
)


@dataclass(frozen=True)
class Town:
    """A town patients come from: its ZIP codes and telephone area codes."""

    city: str
    state: str
    zips: tuple[str, ...]
    area_codes: tuple[str, ...]


@dataclass(frozen=True)
class Metro:
    """A clinic site and the towns around it."""

    code: str
    area: str  # the part of town, used in the location's name
    address_line1: str
    address_line2: str
    city: str
    state: str
    zip_code: str
    time_zone: str
    towns: tuple[Town, ...]
    # Heritage groups more common here than nationally: (key, multiplier).
    heritage_bias: tuple[tuple[str, float], ...] = ()
    # How this state's medical board writes licence numbers: a prefix and a digit count.
    licence_prefix: str = ""
    licence_digits: int = 6
    # The Medicare administrative contractor region (see the payer list in generator.py).
    medicare_region: str = "novitas"


CLINIC_BRAND = "Stillwater Ketamine & Wellness"

METROS: tuple[Metro, ...] = (
    Metro(
        "NYC", "Midtown Manhattan", "322 W 57th St", "Suite 1204", "New York", "NY", "10019",
        "America/New_York",
        towns=(
            Town("New York", "NY", ("10001", "10011", "10016", "10024", "10025", "10128"),
                 ("212", "646", "917")),
            Town("Brooklyn", "NY", ("11201", "11211", "11215", "11238"), ("718", "347", "929")),
            Town("Astoria", "NY", ("11102", "11103", "11105"), ("718", "347")),
            Town("Jersey City", "NJ", ("07302", "07306"), ("201", "551")),
            Town("Hoboken", "NJ", ("07030",), ("201", "551")),
            Town("Yonkers", "NY", ("10701", "10704"), ("914",)),
            Town("Stamford", "CT", ("06901", "06902"), ("203", "475")),
        ),
        heritage_bias=(("chinese", 2.0), ("hispanic", 1.3), ("polish", 1.5), ("irish", 1.5)),
        licence_prefix="", licence_digits=6, medicare_region="ngs",
    ),
    Metro(
        "AUS", "Downtown Austin", "611 W 5th St", "Suite 300", "Austin", "TX", "78701",
        "America/Chicago",
        towns=(
            Town("Austin", "TX", ("78701", "78702", "78703", "78704", "78745", "78751"),
                 ("512", "737")),
            Town("Round Rock", "TX", ("78664", "78681"), ("512", "737")),
            Town("Cedar Park", "TX", ("78613",), ("512",)),
            Town("Pflugerville", "TX", ("78660",), ("512", "737")),
            Town("San Marcos", "TX", ("78666",), ("512",)),
            Town("Georgetown", "TX", ("78626", "78628"), ("512",)),
        ),
        heritage_bias=(("hispanic", 2.0), ("vietnamese", 1.5)),
        licence_prefix="Q", licence_digits=4, medicare_region="novitas",
    ),
    Metro(
        "DEN", "Cherry Creek", "2770 E 1st Ave", "Suite 210", "Denver", "CO", "80206",
        "America/Denver",
        towns=(
            Town("Denver", "CO", ("80202", "80203", "80206", "80210", "80218"),
                 ("303", "720")),
            Town("Aurora", "CO", ("80010", "80012", "80014"), ("303", "720")),
            Town("Lakewood", "CO", ("80226", "80228"), ("303", "720")),
            Town("Boulder", "CO", ("80302", "80304"), ("303", "720")),
            Town("Englewood", "CO", ("80110", "80113"), ("303",)),
            Town("Littleton", "CO", ("80120", "80122"), ("303", "720")),
        ),
        heritage_bias=(("hispanic", 1.4),),
        licence_prefix="DR", licence_digits=7, medicare_region="novitas",
    ),
    Metro(
        "SAN", "Mission Valley", "1640 Camino del Rio N", "Suite 118", "San Diego", "CA",
        "92108", "America/Los_Angeles",
        towns=(
            Town("San Diego", "CA", ("92101", "92103", "92104", "92108", "92117", "92122"),
                 ("619", "858")),
            Town("Chula Vista", "CA", ("91910", "91911"), ("619",)),
            Town("La Mesa", "CA", ("91941", "91942"), ("619",)),
            Town("Escondido", "CA", ("92025", "92026"), ("760", "442")),
            Town("Oceanside", "CA", ("92054", "92056"), ("760", "442")),
            Town("Carlsbad", "CA", ("92008", "92011"), ("760",)),
        ),
        heritage_bias=(("hispanic", 2.2), ("vietnamese", 1.8), ("pacific", 2.0)),
        licence_prefix="A", licence_digits=6, medicare_region="noridian",
    ),
    Metro(
        "SEA", "First Hill", "1101 Madison St", "Suite 640", "Seattle", "WA", "98104",
        "America/Los_Angeles",
        towns=(
            Town("Seattle", "WA", ("98101", "98103", "98105", "98115", "98122"), ("206",)),
            Town("Bellevue", "WA", ("98004", "98006"), ("425",)),
            Town("Redmond", "WA", ("98052",), ("425",)),
            Town("Tacoma", "WA", ("98402", "98405"), ("253",)),
            Town("Everett", "WA", ("98201",), ("425",)),
            Town("Kirkland", "WA", ("98033",), ("425",)),
        ),
        heritage_bias=(("chinese", 1.8), ("korean", 2.0), ("vietnamese", 1.6),
                       ("european", 1.5)),
        licence_prefix="MD", licence_digits=8, medicare_region="noridian",
    ),
    Metro(
        "CHI", "Streeterville", "680 N Lake Shore Dr", "Suite 915", "Chicago", "IL", "60611",
        "America/Chicago",
        towns=(
            Town("Chicago", "IL", ("60611", "60614", "60622", "60640", "60657"),
                 ("312", "773", "872")),
            Town("Evanston", "IL", ("60201", "60202"), ("847", "224")),
            Town("Oak Park", "IL", ("60302",), ("708",)),
            Town("Naperville", "IL", ("60540", "60563"), ("630", "331")),
            Town("Schaumburg", "IL", ("60173",), ("847", "224")),
        ),
        heritage_bias=(("polish", 3.0), ("african_american", 1.5), ("hispanic", 1.3)),
        licence_prefix="036-", licence_digits=6, medicare_region="ngs",
    ),
    Metro(
        "PHX", "Biltmore", "2375 E Camelback Rd", "Suite 500", "Phoenix", "AZ", "85016",
        "America/Phoenix",
        towns=(
            Town("Phoenix", "AZ", ("85004", "85013", "85016", "85018", "85032"),
                 ("602", "480", "623")),
            Town("Scottsdale", "AZ", ("85251", "85257"), ("480",)),
            Town("Tempe", "AZ", ("85281", "85283"), ("480",)),
            Town("Mesa", "AZ", ("85201", "85203"), ("480",)),
            Town("Glendale", "AZ", ("85301",), ("623",)),
            Town("Chandler", "AZ", ("85224", "85226"), ("480",)),
        ),
        heritage_bias=(("hispanic", 2.0),),
        licence_prefix="", licence_digits=5, medicare_region="noridian",
    ),
    Metro(
        "MIA", "Brickell", "1221 Brickell Ave", "Suite 1450", "Miami", "FL", "33131",
        "America/New_York",
        towns=(
            Town("Miami", "FL", ("33125", "33130", "33131", "33133", "33145"),
                 ("305", "786")),
            Town("Coral Gables", "FL", ("33134", "33146"), ("305", "786")),
            Town("Miami Beach", "FL", ("33139", "33140"), ("305", "786")),
            Town("Hialeah", "FL", ("33010", "33012"), ("305", "786")),
            Town("Fort Lauderdale", "FL", ("33301", "33304"), ("954", "754")),
            Town("Hollywood", "FL", ("33019", "33020"), ("954", "754")),
        ),
        heritage_bias=(("hispanic", 4.0), ("african_american", 1.4)),
        licence_prefix="ME", licence_digits=6, medicare_region="novitas",
    ),
    Metro(
        "BOS", "Back Bay", "500 Boylston St", "Suite 820", "Boston", "MA", "02116",
        "America/New_York",
        towns=(
            Town("Boston", "MA", ("02108", "02115", "02116", "02118", "02130"),
                 ("617", "857")),
            Town("Cambridge", "MA", ("02138", "02139"), ("617", "857")),
            Town("Somerville", "MA", ("02143", "02144"), ("617",)),
            Town("Newton", "MA", ("02458", "02459"), ("617",)),
            Town("Quincy", "MA", ("02169",), ("617",)),
            Town("Brookline", "MA", ("02445", "02446"), ("617", "857")),
        ),
        heritage_bias=(("irish", 3.0), ("chinese", 1.4)),
        licence_prefix="", licence_digits=6, medicare_region="ngs",
    ),
    Metro(
        "ATL", "Midtown Atlanta", "1100 Peachtree St NE", "Suite 740", "Atlanta", "GA",
        "30309", "America/New_York",
        towns=(
            Town("Atlanta", "GA", ("30303", "30306", "30308", "30309", "30318"),
                 ("404", "470")),
            Town("Decatur", "GA", ("30030", "30033"), ("404", "470")),
            Town("Marietta", "GA", ("30060", "30062"), ("770", "678")),
            Town("Sandy Springs", "GA", ("30328", "30350"), ("404", "770")),
            Town("Roswell", "GA", ("30075", "30076"), ("770", "678")),
        ),
        heritage_bias=(("african_american", 3.0), ("korean", 1.5)),
        licence_prefix="", licence_digits=5, medicare_region="novitas",
    ),
    Metro(
        "NSH", "Midtown Nashville", "2011 Church St", "Suite 400", "Nashville", "TN", "37203",
        "America/Chicago",
        towns=(
            Town("Nashville", "TN", ("37203", "37205", "37206", "37209", "37212"),
                 ("615", "629")),
            Town("Franklin", "TN", ("37064", "37067"), ("615", "629")),
            Town("Brentwood", "TN", ("37027",), ("615",)),
            Town("Murfreesboro", "TN", ("37128", "37130"), ("615", "629")),
            Town("Hendersonville", "TN", ("37075",), ("615",)),
        ),
        heritage_bias=(("african_american", 1.6), ("arabic", 2.0)),
        licence_prefix="MD", licence_digits=5, medicare_region="novitas",
    ),
    Metro(
        "HNL", "Ala Moana", "1441 Kapiolani Blvd", "Suite 1020", "Honolulu", "HI", "96814",
        "Pacific/Honolulu",
        towns=(
            Town("Honolulu", "HI", ("96813", "96814", "96815", "96816", "96822"), ("808",)),
            Town("Kailua", "HI", ("96734",), ("808",)),
            Town("Pearl City", "HI", ("96782",), ("808",)),
            Town("Kaneohe", "HI", ("96744",), ("808",)),
            Town("Ewa Beach", "HI", ("96706",), ("808",)),
        ),
        heritage_bias=(("pacific", 25.0), ("chinese", 3.0), ("korean", 3.0),
                       ("vietnamese", 2.0)),
        licence_prefix="MD-", licence_digits=5, medicare_region="noridian",
    ),
)
