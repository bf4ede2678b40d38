// Types for scripts/kafka.mjs (plain Node, no build step), so TypeScript code such as
// test/global-setup.ts can import it under `strict`.

export declare const KAFKA_VERSION: string;
export declare const SCALA_BINARY: string;
export declare const LOG4J_VERSION: string;
/** 127.0.0.1: the broker's PLAINTEXT listener host. */
export declare const HOST: string;
/** 9092: the broker's PLAINTEXT listener port. */
export declare const PORT: number;
/** 9093: the KRaft controller listener port. */
export declare const CONTROLLER_PORT: number;
/** The repo root, resolved from the script's own location. */
export declare const ROOT: string;
/** `<root>/.cache/kafka`: pom.xml, lib/, data/, configs, log and pid file. */
export declare const CACHE_DIR: string;
/** The broker's stdout+stderr (log4j at WARN, plus "Kafka Server started"). */
export declare const LOG_FILE: string;
export declare const PID_FILE: string;

export interface InstallResult {
  /** false when lib/ was already complete and nothing was fetched. */
  readonly installed: boolean;
  readonly libDir: string;
}

export interface StartResult {
  /** true when this call launched the broker; false when one already answered and is reused. */
  readonly started: boolean;
  /** Our broker's pid, or null when the broker answering was not started by this script. */
  readonly pid: number | null;
  readonly host: string;
  readonly port: number;
}

export interface StopResult {
  readonly stopped: boolean;
  readonly pid?: number;
}

export interface StatusResult {
  readonly answers: boolean;
  readonly pid: number | null;
  readonly host: string;
  readonly port: number;
  readonly clusterId: string | null;
}

export interface BrokerProbe {
  readonly clusterId: string | null;
  readonly brokers: number;
  readonly controllerId: number;
  readonly metadataVersion: number;
}

/** Whether lib/ holds a complete set of jars for the pinned versions. */
export declare function isInstalled(): boolean;
/** Collects the broker jars into .cache/kafka/lib with Maven; skips when already complete. */
export declare function install(): Promise<InstallResult>;
/**
 * Starts the broker on 127.0.0.1:9092, or reuses one that already answers there. Rejects with a message
 * that includes the end of the broker log when it cannot start within ~90 s.
 */
export declare function start(): Promise<StartResult>;
/** Stops the broker named by the pid file (SIGTERM, SIGKILL after 30 s); never one it did not start. */
export declare function stop(): Promise<StopResult>;
/** Prints and returns whether a broker answers and our pid. */
export declare function status(): Promise<StatusResult>;
/** True when a Kafka broker answers ApiVersions and Metadata at host:port within timeoutMs. */
export declare function brokerAnswers(host?: string, port?: number, timeoutMs?: number): Promise<boolean>;
/** ApiVersions + Metadata round trip; rejects when no Kafka broker answers properly. */
export declare function probeBroker(host?: string, port?: number, timeoutMs?: number): Promise<BrokerProbe>;
