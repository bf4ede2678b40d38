import type { KafkaClient, KafkaWriter, ProducerRecord } from './client.ts';
import { KafkaCommitter } from './committer.ts';

/**
 * The buffered producing end shared by the kafka and upsert-kafka sinks: records collect between flushes;
 * a flush sends them, inside the checkpoint's transaction when the writer is transactional.
 */
export class SinkProducer {
  private buffer: ProducerRecord[] = [];
  readonly committer: KafkaCommitter | undefined;

  constructor(
    private readonly client: KafkaClient,
    private readonly writer: KafkaWriter,
    jobId: string,
  ) {
    this.committer = writer.transactional ? new KafkaCommitter(client, writer, jobId, () => this.flush()) : undefined;
  }

  push(record: ProducerRecord): void {
    this.buffer.push(record);
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    if (this.committer) {
      // Inside the open transaction: a failure here fails the job, whose restart aborts the
      // transaction and replays from the last checkpoint, so the records need not be kept.
      await this.committer.begin();
      await this.writer.send(batch);
      return;
    }
    try {
      await this.writer.send(batch);
    } catch (e) {
      // Keep the records: the job restarts from its last saved progress and writes them again.
      this.buffer = batch.concat(this.buffer);
      throw e;
    }
  }

  async close(): Promise<void> {
    this.buffer = [];
    // A transaction still open here is the output since the last checkpoint, which the restarted job
    // writes again: abort it now rather than leave read_committed readers waiting for its timeout.
    if (this.committer) await this.committer.abort().catch(() => undefined);
    await this.writer.close().catch(() => undefined);
    await this.client.close();
  }
}
