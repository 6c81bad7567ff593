// Docker-style generated names: adjective_surname (a short, friendly subset of
// moby's namesgenerator lists).
const left = [
  "admiring", "adoring", "agitated", "amazing", "angry", "awesome", "blissful", "bold", "brave", "busy",
  "charming", "clever", "compassionate", "confident", "cool", "cranky", "dazzling", "determined", "eager",
  "ecstatic", "elastic", "elegant", "epic", "exciting", "fervent", "festive", "focused", "friendly", "funny",
  "gallant", "gifted", "goofy", "gracious", "happy", "hopeful", "hungry", "inspiring", "intelligent", "jolly",
  "jovial", "keen", "kind", "laughing", "loving", "lucid", "magical", "modest", "musing", "mystifying", "naughty",
  "nervous", "nice", "nifty", "nostalgic", "objective", "optimistic", "peaceful", "pedantic", "pensive", "practical",
  "priceless", "quirky", "quizzical", "relaxed", "reverent", "romantic", "serene", "sharp", "silly", "sleepy",
  "stoic", "strange", "sweet", "tender", "thirsty", "trusting", "upbeat", "vibrant", "vigilant", "wizardly",
  "wonderful", "xenodochial", "youthful", "zealous", "zen",
];
const right = [
  "albattani", "allen", "archimedes", "babbage", "banach", "bardeen", "bell", "bhabha", "blackwell", "bohr",
  "booth", "borg", "bose", "brattain", "cannon", "carson", "cerf", "chandrasekhar", "curie", "darwin", "dijkstra",
  "einstein", "elion", "engelbart", "euclid", "euler", "faraday", "fermat", "fermi", "feynman", "franklin",
  "galileo", "gates", "goldberg", "goodall", "hamilton", "hawking", "heisenberg", "hodgkin", "hopper", "hypatia",
  "jackson", "jang", "jepsen", "johnson", "kalam", "kepler", "knuth", "lamport", "lewin", "lovelace", "lumiere",
  "mahavira", "mayer", "mccarthy", "mcclintock", "meitner", "mendel", "merkle", "morse", "napier", "newton",
  "nobel", "noether", "pascal", "pasteur", "payne", "perlman", "pike", "poincare", "ptolemy", "raman", "ritchie",
  "rubin", "saha", "shannon", "shockley", "sinoussi", "stallman", "swartz", "tesla", "thompson", "torvalds",
  "turing", "varahamihira", "wilson", "wozniak", "wright", "yalow", "yonath",
];

function pick<T>(a: T[]): T {
  return a[Math.floor(Math.random() * a.length)]!;
}

export function generateName(taken: (name: string) => boolean): string {
  for (let i = 0; i < 20; i++) {
    const n = `${pick(left)}_${pick(right)}${i > 5 ? Math.floor(Math.random() * 10) : ""}`;
    if (!taken(n)) return n;
  }
  return `ctr_${Date.now().toString(36)}`;
}

/** Docker's rule for user-given names. */
export const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
