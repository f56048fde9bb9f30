/**
 * How often each write was asked for and how often it took effect, per operation and key: the ground
 * truth a simulated API's write store keeps for tests ("created exactly once", "the repeat changed nothing").
 */
export class WriteTally<Operation extends string> {
  private readonly tallies = new Map<string, { received: number; done: number }>();

  /** A request for `key` that passed validation, whether it takes effect or not. */
  receive(operation: Operation, key: string): void {
    this.entry(operation, key).received++;
  }

  /** A write for `key` that took effect. */
  done(operation: Operation, key: string): void {
    this.entry(operation, key).done++;
  }

  count(operation: Operation, key: string): number {
    return this.tallies.get(`${operation}/${key}`)?.done ?? 0;
  }

  received(operation: Operation, key: string): number {
    return this.tallies.get(`${operation}/${key}`)?.received ?? 0;
  }

  private entry(operation: Operation, key: string): { received: number; done: number } {
    const name = `${operation}/${key}`;
    let tally = this.tallies.get(name);
    if (!tally) this.tallies.set(name, (tally = { received: 0, done: 0 }));
    return tally;
  }
}
