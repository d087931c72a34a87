// Bulk certificate issue: poll the job's progress and move the bar, without reloading the page.
// Without JavaScript the page still works: it shows the progress when loaded and a Refresh link.
import { pollJson } from './poll.js'

const POLL_MS = 1500

export function initBulkProgress (container) {
  const url = container.dataset.url
  const bar = container.querySelector('progress')
  const done = container.querySelector('[data-app-bulk-done]')
  const issued = container.querySelector('[data-app-bulk-issued]')
  const failed = container.querySelector('[data-app-bulk-failed]')
  const state = container.querySelector('[data-app-bulk-state]')
  if (!url || !bar || container.dataset.finished === 'true') return

  pollJson(url, POLL_MS, (data) => {
    bar.max = Math.max(data.total, 1)
    bar.value = data.done
    bar.textContent = `${data.percent}%`
    done.textContent = String(data.done)
    issued.textContent = String(data.issued)
    failed.textContent = String(data.failed)
    if (data.finished) {
      state.textContent = ' Finished.'
      // Reload once to list any failures and the next steps.
      window.location.reload()
      return true
    }
    return false
  })
}
