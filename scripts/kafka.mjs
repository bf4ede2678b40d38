#!/usr/bin/env node
// Installs and runs a real, single-node Apache Kafka broker (KRaft, combined broker+controller) for
// Weir's integration tests, the demo and CI. Plain Node (builtins only): the jars come from Maven Central
// through `mvn`, and the broker runs on `java` from the machine.
//
//   node scripts/kafka.mjs install   collect the broker jars into .cache/kafka/lib (idempotent)
//   node scripts/kafka.mjs start     start a broker on 127.0.0.1:9092, or reuse one that already answers
//   node scripts/kafka.mjs stop      stop the broker this script started (pid file), never another one
//   node scripts/kafka.mjs status    whether a broker answers on 127.0.0.1:9092, and our pid
//   node scripts/kafka.mjs ensure    install, then start
//
// Everything lives in .cache/kafka/ at the repo root (gitignored): pom.xml, lib/, data/, server.properties,
// log4j2.properties, broker.log (the broker's stdout+stderr, truncated at each launch; the previous one is
// kept as broker.prev.log) and broker.pid.
//
// A second, private broker (e.g. one a test stops and starts, never the shared one) runs with every
// command given the same options:
//
//   node scripts/kafka.mjs start --port 19092 --controller-port 19093 --dir .cache/kafka-outage
//   node scripts/kafka.mjs stop  --port 19092 --controller-port 19093 --dir .cache/kafka-outage
//
// It reuses the jars of .cache/kafka/lib; its data/, properties, log and pid file live in --dir (relative
// to the repo root). stop only ever stops the broker started with that dir's server.properties.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const KAFKA_VERSION = '4.1.2';
export const SCALA_BINARY = '2.13';
export const LOG4J_VERSION = '2.25.3';
const DEPENDENCY_PLUGIN_VERSION = '3.8.1';

export const HOST = '127.0.0.1';
export let PORT = 9092;
export let CONTROLLER_PORT = 9093;

const SCRIPT = fileURLToPath(import.meta.url);
export const ROOT = path.resolve(path.dirname(SCRIPT), '..');
export const CACHE_DIR = path.join(ROOT, '.cache', 'kafka');
const LIB_DIR = path.join(CACHE_DIR, 'lib');
const MARKER = path.join(LIB_DIR, '.complete');
const POM = path.join(CACHE_DIR, 'pom.xml');
const INSTALL_LOCK_FILE = path.join(CACHE_DIR, 'lock');
// The broker instance: the shared one in .cache/kafka unless configure() names another dir and ports.
let INSTANCE_DIR = CACHE_DIR;
let DATA_DIR = path.join(CACHE_DIR, 'data');
let SERVER_PROPERTIES = path.join(CACHE_DIR, 'server.properties');
let LOG4J_CONFIG = path.join(CACHE_DIR, 'log4j2.properties');
export let LOG_FILE = path.join(CACHE_DIR, 'broker.log');
let PREV_LOG_FILE = path.join(CACHE_DIR, 'broker.prev.log');
export let PID_FILE = path.join(CACHE_DIR, 'broker.pid');
let LOCK_FILE = INSTALL_LOCK_FILE;

/**
 * Points the commands at another broker instance: its ports and its own directory (data, properties,
 * log, pid file); the jars stay shared. Without a call, the shared broker on 9092 in .cache/kafka.
 */
export function configure({ port = 9092, controllerPort = 9093, dir = CACHE_DIR } = {}) {
  if (!Number.isInteger(port) || !Number.isInteger(controllerPort) || port === controllerPort) {
    throw new Error(`bad ports: --port ${port} --controller-port ${controllerPort}`);
  }
  PORT = port;
  CONTROLLER_PORT = controllerPort;
  INSTANCE_DIR = path.resolve(ROOT, dir);
  DATA_DIR = path.join(INSTANCE_DIR, 'data');
  SERVER_PROPERTIES = path.join(INSTANCE_DIR, 'server.properties');
  LOG4J_CONFIG = path.join(INSTANCE_DIR, 'log4j2.properties');
  LOG_FILE = path.join(INSTANCE_DIR, 'broker.log');
  PREV_LOG_FILE = path.join(INSTANCE_DIR, 'broker.prev.log');
  PID_FILE = path.join(INSTANCE_DIR, 'broker.pid');
  LOCK_FILE = path.join(INSTANCE_DIR, 'lock');
}

const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;
const LOCK_TIMEOUT_MS = 10 * 60_000;

/** What the marker file holds: a changed version list means lib/ is stale and gets rebuilt. */
const ARTIFACTS = [
  `org.apache.kafka:kafka_${SCALA_BINARY}:${KAFKA_VERSION}`,
  // Kafka's core logs through slf4j 1.7, so the binding is log4j-slf4j-impl (not log4j-slf4j2-impl).
  `org.apache.logging.log4j:log4j-slf4j-impl:${LOG4J_VERSION}`,
  `org.apache.logging.log4j:log4j-core:${LOG4J_VERSION}`,
];
const MARKER_TEXT = `${ARTIFACTS.join('\n')}\n`;

const log = (msg) => console.log(`[kafka] ${msg}`);

// ---------------------------------------------------------------------------------------------- install

function pomXml() {
  const deps = ARTIFACTS.map((coord) => {
    const [groupId, artifactId, version] = coord.split(':');
    return [
      '    <dependency>',
      `      <groupId>${groupId}</groupId>`,
      `      <artifactId>${artifactId}</artifactId>`,
      `      <version>${version}</version>`,
      '    </dependency>',
    ].join('\n');
  }).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by scripts/kafka.mjs: the jars of a Kafka broker, collected with dependency:copy-dependencies. -->
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 http://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.weir</groupId>
  <artifactId>weir-kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${deps}
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>${DEPENDENCY_PLUGIN_VERSION}</version>
      </plugin>
    </plugins>
  </build>
</project>
`;
}

export function isInstalled() {
  try {
    return fs.readFileSync(MARKER, 'utf8') === MARKER_TEXT;
  } catch {
    return false;
  }
}

/** Collects the broker's jars into .cache/kafka/lib with Maven. Skips when lib/ is already complete. */
export async function install() {
  if (isInstalled()) {
    log(`jars already installed (${path.relative(ROOT, LIB_DIR)})`);
    return { installed: false, libDir: LIB_DIR };
  }
  return withLock(INSTALL_LOCK_FILE, async () => {
    if (isInstalled()) return { installed: false, libDir: LIB_DIR };
    await requireCommand('mvn', ['-v'], 'Maven (mvn) is needed to fetch the Kafka jars: apt-get install -y maven');
    await requireCommand('java', ['-version'], 'Java 17+ is needed to run Kafka: apt-get install -y openjdk-17-jre-headless');
    fs.rmSync(LIB_DIR, { recursive: true, force: true });
    fs.writeFileSync(POM, pomXml());
    log(`fetching Kafka ${KAFKA_VERSION} jars with Maven (first time may take a few minutes) ...`);
    const began = Date.now();
    const { code, output } = await run('mvn', [
      '-q', '-B',
      'dependency:copy-dependencies',
      '-DoutputDirectory=lib',
      '-DincludeScope=runtime',
    ], { cwd: CACHE_DIR });
    const jar = path.join(LIB_DIR, `kafka_${SCALA_BINARY}-${KAFKA_VERSION}.jar`);
    if (code !== 0 || !fs.existsSync(jar)) {
      throw new Error(`mvn dependency:copy-dependencies failed (exit ${code}) in ${CACHE_DIR}:\n${tail(output, 40)}`);
    }
    fs.writeFileSync(MARKER, MARKER_TEXT);
    const jars = fs.readdirSync(LIB_DIR).filter((f) => f.endsWith('.jar')).length;
    log(`installed ${jars} jars into ${path.relative(ROOT, LIB_DIR)} in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    return { installed: true, libDir: LIB_DIR };
  });
}

// ------------------------------------------------------------------------------------------------ start

function serverProperties() {
  return `# Generated by scripts/kafka.mjs at each start: one combined KRaft broker+controller for tests.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=${HOST}:${CONTROLLER_PORT}
listeners=PLAINTEXT://${HOST}:${PORT},CONTROLLER://${HOST}:${CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://${HOST}:${PORT},CONTROLLER://${HOST}:${CONTROLLER_PORT}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${DATA_DIR}
num.partitions=1
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
min.insync.replicas=1
`;
}

// The broker's stdout/stderr go to broker.log, so log4j writes to the console. WARN and up, plus the
// "Kafka Server started" line that KafkaRaftServer logs at INFO. WEIR_KAFKA_LOG_LEVEL=INFO (or DEBUG)
// makes the broker log more, for debugging.
const log4jProperties = () => `# Generated by scripts/kafka.mjs
status = warn
name = weir-kafka
# Kafka stops its own loggers; log4j's hook would only warn when the JVM is already shutting down.
shutdownHook = disable
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = ${process.env.WEIR_KAFKA_LOG_LEVEL || 'WARN'}
rootLogger.appenderRef.stdout.ref = STDOUT
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
`;

function javaClasspath() {
  return `${LIB_DIR}${path.sep}*`;
}

/** A Kafka cluster id: 16 random bytes, base64url without padding (what StorageTool random-uuid prints). */
function randomClusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function isFormatted() {
  return fs.existsSync(path.join(DATA_DIR, 'meta.properties'));
}

async function formatStorage() {
  if (isFormatted()) return;
  const clusterId = randomClusterId();
  const { code, output } = await run('java', [
    '-cp', javaClasspath(),
    `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`,
    'kafka.tools.StorageTool', 'format',
    '--standalone', '-t', clusterId, '-c', SERVER_PROPERTIES, '--ignore-formatted',
  ], { cwd: INSTANCE_DIR });
  if (code !== 0 || !isFormatted()) {
    throw new Error(`kafka.tools.StorageTool format failed (exit ${code}):\n${tail(output, 40)}`);
  }
  log(`formatted ${path.relative(ROOT, DATA_DIR)} (cluster id ${clusterId})`);
}

function launchBroker() {
  if (fs.existsSync(LOG_FILE)) fs.renameSync(LOG_FILE, PREV_LOG_FILE);
  const fd = fs.openSync(LOG_FILE, 'a');
  const child = spawn('java', [
    '-Xmx512m', '-Xms256m',
    '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent', '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`,
    '-cp', javaClasspath(),
    'kafka.Kafka', SERVER_PROPERTIES,
  ], { cwd: INSTANCE_DIR, detached: true, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const state = { exited: false, code: null, signal: null, error: null };
  child.on('exit', (code, signal) => Object.assign(state, { exited: true, code, signal }));
  child.on('error', (error) => Object.assign(state, { exited: true, error }));
  child.unref();
  if (child.pid) fs.writeFileSync(PID_FILE, `${child.pid}\n`);
  return { pid: child.pid, state };
}

/**
 * Starts the broker on 127.0.0.1:9092 unless one already answers there (then it is reused).
 * Resolves { started: true, pid } when this call launched it, { started: false, pid? } when reused.
 * Rejects with a message that includes the end of the broker log when the broker can't start.
 */
export async function start() {
  if (await brokerAnswers(HOST, PORT, 3000)) {
    const pid = ourLivePid();
    log(`a broker already answers on ${HOST}:${PORT}; reusing it${pid ? ` (pid ${pid})` : ' (not started by this script)'}`);
    return { started: false, pid, host: HOST, port: PORT };
  }
  if (!isInstalled()) await install();
  return withLock(LOCK_FILE, async () => {
    // Another process may have started it while we waited for the lock.
    if (await brokerAnswers(HOST, PORT, 3000)) {
      log(`a broker already answers on ${HOST}:${PORT}; reusing it`);
      return { started: false, pid: ourLivePid(), host: HOST, port: PORT };
    }
    const running = ourLivePid();
    if (running) {
      // Our broker is alive but not answering yet (still starting up, or stuck): wait for it.
      log(`our broker (pid ${running}) is running but not answering yet; waiting for it`);
      const ok = await waitUntilAnswers(() => isAlive(running), START_TIMEOUT_MS);
      if (ok) return { started: false, pid: running, host: HOST, port: PORT };
      await killAndWait(running);
      removePidFile();
      log(`stopped our unresponsive broker (pid ${running}); starting a new one`);
    } else {
      removePidFile();
    }
    for (const port of [PORT, CONTROLLER_PORT]) {
      if (await portAccepts(HOST, port, 1000)) {
        throw new Error(`${HOST}:${port} is in use by a process that does not answer as a Kafka broker; free the port and retry`);
      }
    }
    fs.mkdirSync(INSTANCE_DIR, { recursive: true });
    fs.writeFileSync(SERVER_PROPERTIES, serverProperties());
    fs.writeFileSync(LOG4J_CONFIG, log4jProperties());

    for (let attempt = 1; ; attempt++) {
      let failure = null;
      try {
        await formatStorage();
      } catch (err) {
        failure = err;
      }
      if (!failure) {
        const began = Date.now();
        const broker = launchBroker();
        log(`launched broker pid ${broker.pid}; waiting for it to answer on ${HOST}:${PORT} ...`);
        if (await waitUntilAnswers(() => !broker.state.exited, START_TIMEOUT_MS)) {
          log(`broker answers on ${HOST}:${PORT} (pid ${broker.pid}, ready in ${((Date.now() - began) / 1000).toFixed(1)} s)`);
          return { started: true, pid: broker.pid ?? null, host: HOST, port: PORT };
        }
        if (!broker.state.exited) {
          await killAndWait(broker.pid);
          removePidFile();
          throw new Error(`the broker did not answer on ${HOST}:${PORT} within ${START_TIMEOUT_MS / 1000} s (killed it). ` +
            `Last lines of ${LOG_FILE}:\n${logTail(40)}`);
        }
        removePidFile();
        const how = broker.state.error ? `could not be launched: ${broker.state.error.message}`
          : `exited right away (${broker.state.signal ?? `exit code ${broker.state.code}`})`;
        failure = new Error(`the broker ${how}. Last lines of ${LOG_FILE}:\n${logTail(40)}`);
        // Not the data dir's fault: wiping it would not help.
        if (broker.state.error || /Address already in use|BindException/.test(logTail(200))) throw failure;
      }
      if (attempt >= 2) throw failure;
      log(`start failed; wiping ${path.relative(ROOT, DATA_DIR)} and formatting it again (once):\n${indent(tail(failure.message, 10))}`);
      fs.rmSync(DATA_DIR, { recursive: true, force: true });
    }
  });
}

async function waitUntilAnswers(stillRunning, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!stillRunning()) return false;
    if (await brokerAnswers(HOST, PORT, 2000)) return true;
    if (!stillRunning()) return false;
    await sleep(500);
  }
  return false;
}

// ------------------------------------------------------------------------------------- stop and status

/** Stops the broker whose pid is in the pid file. Never touches a broker this script did not start. */
export async function stop() {
  const pid = readPid();
  if (!pid) {
    const answers = await brokerAnswers(HOST, PORT, 2000);
    log(`no pid file (${path.relative(ROOT, PID_FILE)}): not stopping anything` +
      (answers ? `; a broker answers on ${HOST}:${PORT} but this script did not start it` : ''));
    return { stopped: false };
  }
  if (!isAlive(pid) || !isOurBroker(pid)) {
    log(`pid ${pid} from the pid file is not running (or is not our broker); removing the stale pid file`);
    removePidFile();
    return { stopped: false };
  }
  log(`stopping broker pid ${pid} ...`);
  const began = Date.now();
  const how = await killAndWait(pid);
  removePidFile();
  log(`broker pid ${pid} ${how} after ${((Date.now() - began) / 1000).toFixed(1)} s`);
  return { stopped: true, pid };
}

/** SIGTERM, wait up to 30 s, then SIGKILL. Resolves how it ended. */
async function killAndWait(pid) {
  try { process.kill(pid, 'SIGTERM'); } catch { return 'was already gone'; }
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'stopped';
    await sleep(200);
  }
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
  return `did not stop within ${STOP_TIMEOUT_MS / 1000} s and was killed (SIGKILL)`;
}

/** Whether a broker answers on 127.0.0.1:9092, and the pid of ours if it runs. */
export async function status() {
  const info = await probeBroker(HOST, PORT, 3000).catch(() => null);
  const pid = ourLivePid();
  const answers = info !== null;
  log(answers
    ? `a broker answers on ${HOST}:${PORT} (cluster ${info.clusterId ?? '?'}, ${info.brokers} broker(s), Metadata v${info.metadataVersion})`
    : `no broker answers on ${HOST}:${PORT}`);
  log(pid ? `our broker pid: ${pid} (from ${path.relative(ROOT, PID_FILE)})` : 'our broker pid: none (no live pid file)');
  return { answers, pid, host: HOST, port: PORT, clusterId: info?.clusterId ?? null };
}

// ------------------------------------------------------------------------ a minimal Kafka protocol check

/** True when a Kafka broker answers ApiVersions and Metadata at host:port within timeoutMs. */
export async function brokerAnswers(host = HOST, port = PORT, timeoutMs = 2000) {
  try {
    await probeBroker(host, port, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends ApiVersions v0 (error code must be 0) and then Metadata (the highest non-flexible version 4..8 the
 * broker supports, for no topics; it must list at least one broker). Resolves { clusterId, brokers,
 * controllerId, metadataVersion }; rejects on any failure.
 */
export function probeBroker(host = HOST, port = PORT, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ host, port });
    let buffered = Buffer.alloc(0);
    let pending = null; // { correlationId, onBody }
    let done = false;
    const finish = (err, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err); else resolve(value);
    };
    const timer = setTimeout(() => finish(new Error(`no Kafka answer from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    const send = (apiKey, apiVersion, correlationId, body, onBody) => {
      pending = { correlationId, onBody };
      socket.write(requestFrame(apiKey, apiVersion, correlationId, body));
    };
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error(`connection to ${host}:${port} closed before a full answer`)));
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (!done && buffered.length >= 4) {
        const size = buffered.readInt32BE(0);
        if (buffered.length < 4 + size) return;
        const frame = buffered.subarray(4, 4 + size);
        buffered = buffered.subarray(4 + size);
        try {
          const r = new Reader(frame);
          const correlationId = r.int32(); // response header v0 for both requests
          if (!pending || correlationId !== pending.correlationId) {
            throw new Error(`unexpected correlation id ${correlationId}`);
          }
          const { onBody } = pending;
          pending = null;
          onBody(r);
        } catch (err) {
          finish(err);
        }
      }
    });
    socket.on('connect', () => {
      send(18, 0, 1, Buffer.alloc(0), (r) => {
        const errorCode = r.int16();
        if (errorCode !== 0) throw new Error(`ApiVersions answered error code ${errorCode}`);
        let metadata = null;
        const count = r.int32();
        for (let i = 0; i < count; i++) {
          const apiKey = r.int16();
          const min = r.int16();
          const max = r.int16();
          if (apiKey === 3) metadata = { min, max };
        }
        if (!metadata) throw new Error('the broker lists no Metadata API');
        const version = Math.min(8, metadata.max);
        if (version < Math.max(4, metadata.min)) {
          throw new Error(`no non-flexible Metadata version in 4..8 (broker supports ${metadata.min}..${metadata.max})`);
        }
        // topics: empty array (no topics, so nothing gets auto-created); allow_auto_topic_creation: false;
        // v8 adds include_cluster/topic_authorized_operations: false, false.
        const body = Buffer.alloc(version >= 8 ? 7 : 5);
        body.writeInt32BE(0, 0);
        body.writeInt8(0, 4);
        send(3, version, 2, body, (m) => {
          m.int32(); // throttle_time_ms
          const brokers = m.int32();
          for (let i = 0; i < brokers; i++) {
            m.int32(); // node_id
            m.string(); // host
            m.int32(); // port
            m.string(); // rack (nullable)
          }
          const clusterId = m.string();
          const controllerId = m.int32();
          if (brokers < 1) throw new Error('Metadata lists no brokers yet');
          finish(null, { clusterId, brokers, controllerId, metadataVersion: version });
        });
      });
    });
  });
}

/** Request header v1 (api key, version, correlation id, client id) followed by the body, size-prefixed. */
function requestFrame(apiKey, apiVersion, correlationId, body) {
  const clientId = Buffer.from('weir-kafka-script');
  const header = Buffer.alloc(10 + clientId.length);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(clientId.length, 8);
  clientId.copy(header, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + body.length, 0);
  return Buffer.concat([size, header, body]);
}

class Reader {
  constructor(buf) { this.buf = buf; this.pos = 0; }
  need(n) {
    if (this.pos + n > this.buf.length) throw new Error('truncated Kafka response');
  }
  int16() { this.need(2); const v = this.buf.readInt16BE(this.pos); this.pos += 2; return v; }
  int32() { this.need(4); const v = this.buf.readInt32BE(this.pos); this.pos += 4; return v; }
  string() {
    const len = this.int16();
    if (len < 0) return null;
    this.need(len);
    const v = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return v;
  }
}

// --------------------------------------------------------------------------------------------- helpers

function portAccepts(host, port, timeoutMs) {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host, port });
    const done = (v) => { socket.destroy(); clearTimeout(timer); resolve(v); };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => done(true));
    socket.on('error', () => done(false));
  });
}

function readPid() {
  try {
    const pid = Number.parseInt(fs.readFileSync(PID_FILE, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function removePidFile() {
  fs.rmSync(PID_FILE, { force: true });
}

/** The pid from our pid file when that process is alive and is our broker. */
function ourLivePid() {
  const pid = readPid();
  return pid && isAlive(pid) && isOurBroker(pid) ? pid : null;
}

/** Alive and not a zombie (a broker launched by this very process stays a zombie until reaped). */
function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return process.platform !== 'linux';
  }
}

/** Guards against pid reuse: the process must be java running kafka.Kafka with our server.properties. */
function isOurBroker(pid) {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('kafka.Kafka') && cmdline.includes(SERVER_PROPERTIES);
  } catch {
    return process.platform !== 'linux'; // no /proc: trust the pid file
  }
}

/** A lock file holding the owner's pid, so two processes don't install or start at once. */
async function withLock(lockFile, fn) {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const owner = Number.parseInt(fs.readFileSync(lockFile, 'utf8').trim(), 10);
      if (!Number.isInteger(owner) || owner === process.pid || !isAlive(owner)) {
        fs.rmSync(lockFile, { force: true }); // stale
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockFile} (held by pid ${owner})`);
      if (!told) { log(`waiting for another kafka.mjs (pid ${owner}) to finish ...`); told = true; }
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

/** Runs a command, collecting stdout+stderr; resolves { code, output }. */
function run(cmd, args, options = {}) {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('error', (err) => resolve({ code: -1, output: `${output}${err.message}\n` }));
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

async function requireCommand(cmd, args, hint) {
  const { code } = await run(cmd, args);
  if (code !== 0) throw new Error(`'${cmd}' is not available. ${hint}`);
}

function logTail(lines) {
  try {
    return tail(fs.readFileSync(LOG_FILE, 'utf8'), lines);
  } catch {
    return '(no broker log)';
  }
}

function tail(text, lines) {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function indent(text) {
  return text.split('\n').map((l) => `    ${l}`).join('\n');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------------------- CLI

/** `--port N --controller-port N --dir D` after the command: another broker instance (see the top). */
function parseInstance(args) {
  const opts = {};
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    switch (flag) {
      case '--port': opts.port = Number(value); break;
      case '--controller-port': opts.controllerPort = Number(value); break;
      case '--dir': opts.dir = value; break;
      default: throw new Error(`unknown option ${flag} (options: --port, --controller-port, --dir)`);
    }
  }
  return opts;
}

async function main(argv) {
  const command = argv[0];
  if (argv.length > 1) configure(parseInstance(argv.slice(1)));
  switch (command) {
    case 'install':
      await install();
      return 0;
    case 'start':
      await start();
      return 0;
    case 'ensure':
      await install();
      await start();
      return 0;
    case 'stop':
      await stop();
      return 0;
    case 'status':
      return (await status()).answers ? 0 : 3;
    default:
      console.error('usage: node scripts/kafka.mjs install|start|stop|status|ensure [--port N --controller-port N --dir D]');
      return 2;
  }
}

function invokedDirectly() {
  if (!process.argv[1]) return false;
  try {
    return fs.realpathSync(process.argv[1]) === fs.realpathSync(SCRIPT);
  } catch {
    return path.resolve(process.argv[1]) === SCRIPT;
  }
}
if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err) => {
      console.error(`[kafka] ERROR: ${err?.message ?? err}`);
      process.exitCode = 1;
    },
  );
}
