// Bulk import of people: poll the import's progress and move the bar; reload when it has finished,
// so the page shows the outcome. Without JavaScript the page still works: it has a Refresh link.

const POLL_MS = 1000

export function initImportProgress (container) {
  const url = container.dataset.url
  const bar = container.querySelector('progress')
  const percent = container.querySelector('[data-app-import-percent]')
  const phase = container.querySelector('[data-app-import-phase]')
  if (!url || !bar) return

  async function poll () {
    let data
    try {
      const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      if (!response.ok) throw new Error(String(response.status))
      data = await response.json()
    } catch {
      window.setTimeout(poll, POLL_MS * 4)
      return
    }
    if (data.finished) {
      window.location.reload()
      return
    }
    bar.value = data.percent
    bar.textContent = `${data.percent}%`
    percent.textContent = String(data.percent)
    phase.textContent = data.state === 'writing' ? 'saving the people' : 'checking every row again'
    window.setTimeout(poll, POLL_MS)
  }
  window.setTimeout(poll, POLL_MS)
}
