// Bulk import of people: poll the import's progress and move the bar; reload when it has finished,
// so the page shows the outcome. Without JavaScript the page still works: it has a Refresh link.
import { pollJson } from './poll.js'

const POLL_MS = 1000

export function initImportProgress (container) {
  const url = container.dataset.url
  const bar = container.querySelector('progress')
  const percent = container.querySelector('[data-app-import-percent]')
  const phase = container.querySelector('[data-app-import-phase]')
  if (!url || !bar) return

  pollJson(url, POLL_MS, (data) => {
    if (data.finished) {
      window.location.reload()
      return true
    }
    bar.value = data.percent
    bar.textContent = `${data.percent}%`
    percent.textContent = String(data.percent)
    phase.textContent = data.state === 'writing' ? 'saving the people' : 'checking every row again'
    return false
  })
}
