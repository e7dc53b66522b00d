// Where the reader remembers how far it got in each shard, per group. The interface is two methods so
// a store can be a Redis hash, a DynamoDB table or a SQL row; the default keeps them in memory (lost
// on restart — then the subscription starts again from its `from` option).

/** How far a group has read one shard. */
export interface KinesisCheckpoint {
  /** The last sequence number handed to the handler; reading resumes after it. */
  sequenceNumber?: string;
  /** The shard was closed by a reshard and read to its end: its children may be read. */
  finished?: boolean;
}

export interface KinesisCheckpointKey {
  group: string;
  /** The stream name (not the ARN), so a name and an ARN of one stream share checkpoints. */
  stream: string;
  shardId: string;
}

/**
 * A checkpoint store. `save` is called after the handler has returned for every record of one
 * GetRecords page (at-least-once: after a crash, up to one page is delivered again), and once more
 * with `finished: true` when a closed shard has been read to its end.
 */
export interface KinesisCheckpointStore {
  load(key: KinesisCheckpointKey): Promise<KinesisCheckpoint | undefined>;
  save(key: KinesisCheckpointKey, checkpoint: KinesisCheckpoint): Promise<void>;
}

/** The default store: a Map in this process. */
export class MemoryCheckpointStore implements KinesisCheckpointStore {
  private readonly checkpoints = new Map<string, KinesisCheckpoint>();

  async load(key: KinesisCheckpointKey): Promise<KinesisCheckpoint | undefined> {
    const found = this.checkpoints.get(keyOf(key));
    return found ? { ...found } : undefined;
  }

  async save(key: KinesisCheckpointKey, checkpoint: KinesisCheckpoint): Promise<void> {
    this.checkpoints.set(keyOf(key), { ...checkpoint });
  }
}

function keyOf({ group, stream, shardId }: KinesisCheckpointKey): string {
  return JSON.stringify([group, stream, shardId]);
}
