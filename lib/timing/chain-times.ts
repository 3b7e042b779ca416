/**
 * @internal One timed batch of a fused chain, its times kept as the worker
 * sent them (start and end per record) with each item's entry to and exit
 * from the chain written in beside them. The batch's items point here and
 * make their own marks only when something reads or adds to their timings
 * (PipelineItem.addChainTimings): most items of a timed pipeline are never
 * read one by one, and writing six numbers per member into a fresh array per
 * item cost the main thread 34 ns an item on a chain of three (measured),
 * and some 250 bytes of garbage (reckoned from V8's array layout).
 */
export class ChainTimes {
  /**
   * For the item whose first record is at index r: when it entered the chain
   * at 2r, when it left at 2r + 1. A plain array: two Float64Arrays a batch
   * were 2.5 us (memory outside the heap, made and freed).
   */
  readonly moments: number[];

  constructor(
    /** The members' names, by step: kept, not copied; the caller must not change them. */
    readonly names: readonly string[],
    /** Per record: computation start and end. */
    readonly times: ArrayLike<number>,
    /** The worker thread that ran the batch. */
    readonly threadId: number,
    /** How many records the batch has. */
    records: number,
  ) {
    this.moments = new Array<number>(2 * records);
  }
}
