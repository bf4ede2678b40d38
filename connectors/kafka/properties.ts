/**
 * Flink's `properties.*` table options (Kafka client configs) → connection settings of our client.
 *
 * Supported:
 *   security.protocol       PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
 *   sasl.mechanism          PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
 *   sasl.jaas.config        '... PlainLoginModule required username="u" password="p";' (or ScramLoginModule)
 *   ssl.truststore.type     PEM (with ssl.truststore.location = a PEM file, or ssl.truststore.certificates
 *                           = PEM text); JKS and PKCS12 truststores are refused
 *   ssl.keystore.*          PEM (ssl.keystore.location = PEM with certificate and key, or
 *                           ssl.keystore.certificate.chain + ssl.keystore.key, ssl.key.password) or PKCS12
 *   ssl.endpoint.identification.algorithm   '' turns off host name verification (as in Java)
 *   request.timeout.ms, socket.connection.setup.timeout.ms, client.id
 *   isolation.level, auto.offset.reset               reader defaults
 *   acks, enable.idempotence, compression.type, transaction.timeout.ms, transactional.id   writer defaults
 * Known and ignored without a warning (they are about consumer groups or the Java client's internals that
 * Weir does not use): group.id, enable.auto.commit, auto.commit.interval.ms, bootstrap.servers,
 * key/value (de)serializer, partition.discovery.interval.ms, client.dns.lookup, linger.ms, batch.size,
 * buffer.memory, max.poll.records, fetch.min.bytes, ...; anything else is ignored with a warning.
 * Unsupported security settings (GSSAPI, OAUTHBEARER, JKS stores) are errors: silently dropping them would
 * only show up later as a confusing connection failure.
 */
import fs from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { KafkaClientError } from './errors.ts';

export interface SaslSettings {
  readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  readonly username: string;
  readonly password: string;
}

export interface ClientSettings {
  readonly clientId: string | undefined;
  readonly tls: TlsOptions | undefined;
  readonly sasl: SaslSettings | undefined;
  readonly requestTimeoutMs: number | undefined;
  readonly connectTimeoutMs: number | undefined;
  readonly isolationLevel: 'read_committed' | 'read_uncommitted' | undefined;
  readonly autoOffsetReset: 'earliest' | 'latest' | 'fail' | undefined;
  readonly acks: 0 | 1 | -1 | undefined;
  readonly idempotent: boolean | undefined;
  readonly compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd' | undefined;
  readonly transactionTimeoutMs: number | undefined;
  readonly transactionalId: string | undefined;
  readonly warnings: string[];
}

const IGNORED = new Set([
  'bootstrap.servers',
  'group.id',
  'group.instance.id',
  'enable.auto.commit',
  'auto.commit.interval.ms',
  'key.deserializer',
  'value.deserializer',
  'key.serializer',
  'value.serializer',
  'partition.discovery.interval.ms',
  'client.dns.lookup',
  'linger.ms',
  'batch.size',
  'buffer.memory',
  'max.poll.records',
  'max.poll.interval.ms',
  'session.timeout.ms',
  'heartbeat.interval.ms',
  'fetch.min.bytes',
  'fetch.max.bytes',
  'fetch.max.wait.ms',
  'max.partition.fetch.bytes',
  'max.in.flight.requests.per.connection',
  'retries',
  'retry.backoff.ms',
  'reconnect.backoff.ms',
  'reconnect.backoff.max.ms',
  'delivery.timeout.ms',
  'max.request.size',
  'metadata.max.age.ms',
  'connections.max.idle.ms',
  'receive.buffer.bytes',
  'send.buffer.bytes',
  'check.crcs',
  'commit.offsets.on.checkpoint',
  'client.rack',
  'ssl.protocol',
  'ssl.enabled.protocols',
  'sasl.kerberos.service.name',
]);

function readFile(path: string, what: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (err) {
    throw new KafkaClientError('config', `${what}: cannot read '${path}' (${(err as Error).message})`, { cause: err });
  }
}

/** Parses `LoginModule required key="value" key2=value2;` into its options. */
export function parseJaasConfig(text: string): { module: string; options: Record<string, string> } {
  const m = /^\s*([\w.$]+)\s+(required|requisite|sufficient|optional)\b([\s\S]*?);?\s*$/.exec(text);
  if (!m) {
    throw new KafkaClientError('config', `'sasl.jaas.config' is not a JAAS entry ('<LoginModule> required key="value" ...;'): ${JSON.stringify(text)}`);
  }
  const options: Record<string, string> = {};
  const re = /([\w.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))/g;
  let opt: RegExpExecArray | null;
  while ((opt = re.exec(m[3]!)) !== null) {
    options[opt[1]!] = opt[2] !== undefined ? opt[2].replace(/\\(.)/g, '$1') : opt[3]!;
  }
  return { module: m[1]!, options };
}

function parseIntProp(props: Readonly<Record<string, string>>, key: string): number | undefined {
  const v = props[key];
  if (v === undefined) return undefined;
  const n = Number(v.trim());
  if (!Number.isInteger(n) || n < 0) throw new KafkaClientError('config', `'${key}' must be a non-negative integer, got '${v}'`);
  return n;
}

export function parseClientProperties(props: Readonly<Record<string, string>> = {}): ClientSettings {
  const warnings: string[] = [];
  const used = new Set<string>();
  const get = (key: string): string | undefined => {
    used.add(key);
    const v = props[key];
    return v === undefined ? undefined : v.trim();
  };

  const protocol = (get('security.protocol') ?? 'PLAINTEXT').toUpperCase();
  if (!['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'].includes(protocol)) {
    throw new KafkaClientError('config', `'security.protocol' = '${protocol}' is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL`);
  }
  const useTls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const useSasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';

  // --- TLS
  let tls: TlsOptions | undefined;
  const sslKeys = Object.keys(props).filter((k) => k.startsWith('ssl.'));
  if (useTls) {
    const t: TlsOptions = {};
    const trustType = (get('ssl.truststore.type') ?? 'PEM').toUpperCase();
    const trustLocation = get('ssl.truststore.location');
    const trustCerts = get('ssl.truststore.certificates');
    used.add('ssl.truststore.password');
    if (trustCerts) {
      t.ca = trustCerts;
    } else if (trustLocation) {
      if (trustType === 'PEM') t.ca = readFile(trustLocation, 'ssl.truststore.location');
      else {
        throw new KafkaClientError(
          'config',
          `'ssl.truststore.type' = '${trustType}' is not supported: use PEM (export the CA certificates with keytool -exportcert -rfc or openssl pkcs12 -nokeys)`,
        );
      }
    }
    const keyType = (get('ssl.keystore.type') ?? 'PEM').toUpperCase();
    const keyLocation = get('ssl.keystore.location');
    const keyPassword = get('ssl.key.password') ?? get('ssl.keystore.password');
    const chain = get('ssl.keystore.certificate.chain');
    const keyPem = get('ssl.keystore.key');
    if (chain && keyPem) {
      t.cert = chain;
      t.key = keyPem;
      if (keyPassword) t.passphrase = keyPassword;
    } else if (keyLocation) {
      if (keyType === 'PEM') {
        const pem = readFile(keyLocation, 'ssl.keystore.location');
        t.cert = pem;
        t.key = pem;
        if (keyPassword) t.passphrase = keyPassword;
      } else if (keyType === 'PKCS12') {
        const pfx = { buf: readFile(keyLocation, 'ssl.keystore.location'), passphrase: get('ssl.keystore.password') ?? '' };
        t.pfx = [pfx];
      } else {
        throw new KafkaClientError('config', `'ssl.keystore.type' = '${keyType}' is not supported (use PEM or PKCS12)`);
      }
    }
    const ident = get('ssl.endpoint.identification.algorithm');
    if (ident !== undefined && ident === '') t.checkServerIdentity = () => undefined;
    tls = t;
  } else if (sslKeys.length > 0) {
    for (const k of sslKeys) used.add(k);
    warnings.push(`'${sslKeys.join("', '")}' ignored: 'security.protocol' is ${protocol}, not SSL or SASL_SSL`);
  }

  // --- SASL
  let sasl: SaslSettings | undefined;
  const mechanismRaw = get('sasl.mechanism');
  const jaas = get('sasl.jaas.config');
  if (useSasl) {
    const mechanism = (mechanismRaw ?? 'GSSAPI').toUpperCase();
    if (mechanism !== 'PLAIN' && mechanism !== 'SCRAM-SHA-256' && mechanism !== 'SCRAM-SHA-512') {
      throw new KafkaClientError(
        'config',
        `'sasl.mechanism' = '${mechanism}' is not supported (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 are)${mechanismRaw === undefined ? "; Kafka's default is GSSAPI, set 'properties.sasl.mechanism'" : ''}`,
      );
    }
    if (!jaas) throw new KafkaClientError('config', `'sasl.jaas.config' is required with 'security.protocol' = '${protocol}'`);
    const { module, options } = parseJaasConfig(jaas);
    const expected = mechanism === 'PLAIN' ? 'PlainLoginModule' : 'ScramLoginModule';
    if (!module.endsWith(expected)) {
      throw new KafkaClientError('config', `'sasl.jaas.config' uses ${module}, but 'sasl.mechanism' = '${mechanism}' needs ...${expected}`);
    }
    const username = options['username'];
    const password = options['password'];
    if (username === undefined || password === undefined) {
      throw new KafkaClientError('config', `'sasl.jaas.config' must set username="..." and password="..."`);
    }
    sasl = { mechanism, username, password };
  } else if (mechanismRaw !== undefined || jaas !== undefined) {
    warnings.push(`'sasl.mechanism' / 'sasl.jaas.config' ignored: 'security.protocol' is ${protocol}, not SASL_PLAINTEXT or SASL_SSL`);
  }

  // --- reader / writer defaults
  const iso = get('isolation.level');
  let isolationLevel: ClientSettings['isolationLevel'];
  if (iso !== undefined) {
    if (iso !== 'read_committed' && iso !== 'read_uncommitted') {
      throw new KafkaClientError('config', `'isolation.level' must be read_committed or read_uncommitted, got '${iso}'`);
    }
    isolationLevel = iso;
  }
  const reset = get('auto.offset.reset');
  let autoOffsetReset: ClientSettings['autoOffsetReset'];
  if (reset !== undefined) {
    if (reset === 'earliest' || reset === 'latest') autoOffsetReset = reset;
    else if (reset === 'none') autoOffsetReset = 'fail';
    else throw new KafkaClientError('config', `'auto.offset.reset' must be earliest, latest or none, got '${reset}'`);
  }
  const acksRaw = get('acks');
  let acks: ClientSettings['acks'];
  if (acksRaw !== undefined) {
    if (acksRaw === 'all' || acksRaw === '-1') acks = -1;
    else if (acksRaw === '0') acks = 0;
    else if (acksRaw === '1') acks = 1;
    else throw new KafkaClientError('config', `'acks' must be 0, 1, -1 or all, got '${acksRaw}'`);
  }
  const idem = get('enable.idempotence');
  const compressionRaw = get('compression.type');
  let compression: ClientSettings['compression'];
  if (compressionRaw !== undefined) {
    const c = compressionRaw.toLowerCase();
    if (c !== 'none' && c !== 'gzip' && c !== 'snappy' && c !== 'lz4' && c !== 'zstd') {
      throw new KafkaClientError('config', `'compression.type' must be none, gzip, snappy, lz4 or zstd, got '${compressionRaw}'`);
    }
    compression = c;
  }

  const settings: ClientSettings = {
    clientId: get('client.id'),
    tls,
    sasl,
    requestTimeoutMs: parseIntProp(props, 'request.timeout.ms'),
    connectTimeoutMs: parseIntProp(props, 'socket.connection.setup.timeout.ms'),
    isolationLevel,
    autoOffsetReset,
    acks,
    idempotent: idem === undefined ? undefined : idem.toLowerCase() === 'true',
    compression,
    transactionTimeoutMs: parseIntProp(props, 'transaction.timeout.ms'),
    transactionalId: get('transactional.id'),
    warnings,
  };
  used.add('request.timeout.ms');
  used.add('socket.connection.setup.timeout.ms');
  used.add('transaction.timeout.ms');
  for (const key of Object.keys(props)) {
    if (!used.has(key) && !IGNORED.has(key)) warnings.push(`property '${key}' is not supported by Weir's Kafka client and is ignored`);
  }
  return settings;
}
