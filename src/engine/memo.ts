/**
 * A bounded memo for pure functions of a short string (an action type, a resource name, a time zone and
 * a quarter hour). Requests repeat these values constantly; the work behind them (regex replaces and
 * tests, Intl formatting) costs more than a Map lookup. When full it starts over: no LRU bookkeeping per
 * hit, and a flood of distinct values can never grow it past `max`.
 */
export class Memo<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly max = 2048) {}

  get(key: string, compute: (key: string) => V): V {
    const hit = this.map.get(key);
    if (hit !== undefined || this.map.has(key)) return hit as V;
    const value = compute(key);
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, value);
    return value;
  }

  get size(): number {
    return this.map.size;
  }
}
