// Poll a JSON address every `intervalMs` until `handle(data)` returns true; a failed request waits
// four times as long before the next try. Used by the progress bars of long-running work.

export function pollJson (url, intervalMs, handle) {
  async function poll () {
    let data
    try {
      const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      if (!response.ok) throw new Error(String(response.status))
      data = await response.json()
    } catch {
      window.setTimeout(poll, intervalMs * 4)
      return
    }
    if (!handle(data)) window.setTimeout(poll, intervalMs)
  }
  window.setTimeout(poll, intervalMs)
}
