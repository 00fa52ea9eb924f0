/**
 * vitest 5's reporters call `Map.groupBy` and `Object.groupBy`, which Node 20 (the version on these machines)
 * lacks: without this, a failing test crashes the reporter instead of printing why it failed.
 */
const groupBy = <K, V>(items: Iterable<V>, key: (item: V, index: number) => K): Map<K, Array<V>> => {
  const groups = new Map<K, Array<V>>()
  let i = 0
  for (const item of items) {
    const k = key(item, i++)
    const group = groups.get(k)
    if (group === undefined) groups.set(k, [item])
    else group.push(item)
  }
  return groups
}

if (typeof (Map as unknown as { groupBy?: unknown }).groupBy !== "function") {
  Object.defineProperty(Map, "groupBy", { value: groupBy, configurable: true, writable: true })
}
if (typeof (Object as unknown as { groupBy?: unknown }).groupBy !== "function") {
  Object.defineProperty(Object, "groupBy", {
    value: <V>(items: Iterable<V>, key: (item: V, index: number) => PropertyKey) =>
      Object.assign(Object.create(null), Object.fromEntries(groupBy(items, key))),
    configurable: true,
    writable: true
  })
}

export {}
