/**
 * Secrets of the documented shapes, built at run time from a seeded generator, so that the repository
 * itself holds no string a secret scanner would flag. None is a real credential.
 */
import { generateKeyPairSync } from 'node:crypto';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE64 = BASE62 + '+/';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const HEX = '0123456789abcdef';

/** A deterministic generator (mulberry32): the same seed, the same "secret". */
function generator(seed: number): (alphabet: string, length: number) => string {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (alphabet, length) =>
    Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
}

/** An 84-character common annotated security key (JQQJ9 signature) with the given provider signature. */
function annotated(rand: ReturnType<typeof generator>, type: string, provider: string): string {
  return rand(BASE62, 52) + 'JQQJ9' + '9' + 'B' + 'K' + rand(BASE62, 12) + type + provider + rand(BASE62, 4);
}

export function fakeSecrets(seed = 7) {
  const rand = generator(seed);
  const legacyPat = () => {
    // Base32 with enough digits to look like a token (a real one does).
    let pat = '';
    while ((pat.match(/[2-7]/g)?.length ?? 0) < 5) pat = rand(BASE32, 52);
    return pat;
  };
  return {
    storageKey: rand(BASE64, 76) + '+ASt' + rand(BASE64, 5) + 'A==',
    storageLegacyKey: rand(BASE64, 86) + '==',
    cosmosKey: rand(BASE64, 76) + 'ACDb' + rand(BASE64, 5) + 'Q==',
    cosmosLegacyKey: rand(BASE64, 86) + '==',
    sasSignature: rand(BASE62, 43) + '%3D',
    entraSecret: rand(BASE62, 3) + '8Q~' + rand(BASE62 + '_~.-', 34),
    entraSecret7: rand(BASE62, 3) + '7Q~' + rand(BASE62 + '_~.-', 31),
    devopsPat: annotated(rand, 'AAAA', 'AZDO'),
    devopsLegacyPat: legacyPat(),
    openAIKey: annotated(rand, 'AAAB', 'ACOG'),
    openAIHexKey: rand(HEX, 32),
    serviceBusKey: rand(BASE64, 43) + '=',
    eventHubsKey: rand(BASE64, 33) + '+AEh' + 'B' + rand(BASE64, 5) + '=',
    otherAnnotatedKey: annotated(rand, 'AAAC', 'ABCD'),
    githubToken: 'ghp' + '_' + rand(BASE62, 36),
    awsSecretKey: rand(BASE62, 40),
    npmToken: 'npm' + '_' + rand(BASE62, 36),
    slackToken: 'xox' + 'b-' + rand('0123456789', 12) + '-' + rand(BASE62, 24),
    privateKey: generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs1', format: 'pem' })
      .toString(),
    dbPassword: rand(BASE62, 16),
    /** SEC1 ("BEGIN EC PRIVATE KEY"): its body starts "MHcC", not "MI", and is shorter than 100 characters per line run. */
    ecPrivateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'sec1', format: 'pem' })
      .toString(),
    /** PKCS#8 Ed25519: a 64-character body ("MC4C..."). */
    ed25519PrivateKey: generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
  };
}

/**
 * The development keys Microsoft publishes for its local emulators, which every developer has: the
 * Azurite storage emulator's account key (account devstoreaccount1) and the Cosmos DB emulator's key.
 * Joined at run time so that the file holds neither whole.
 * https://learn.microsoft.com/azure/storage/common/storage-use-azurite#connection-strings
 * https://learn.microsoft.com/azure/cosmos-db/emulator#authentication
 */
export const EMULATOR_KEYS = {
  azurite: [
    'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsu',
    'Fq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
  ].join(''),
  cosmos: [
    'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqob',
    'D4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==',
  ].join(''),
};
