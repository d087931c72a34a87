// vigtrain front-end entry point. Load with:
//   <script type="module" src="/static/js/app.js"></script>
// (an external module, because the Content-Security-Policy forbids inline
// scripts). Module scripts only run in browsers GOV.UK Frontend supports.
import { initAll } from './govuk-frontend.min.js'

// GOV.UK Frontend 6 checks for this class before initialising components;
// its CSS uses it to hide content that JavaScript enhances. (The upstream
// template also adds 'js-enabled', but 6.3.0's CSS/JS do not use it.)
document.body.classList.add('govuk-frontend-supported')

initAll()

// <button type="button" data-app-print>Print these codes</button>
for (const button of document.querySelectorAll('[data-app-print]')) {
  button.addEventListener('click', (event) => {
    event.preventDefault()
    window.print()
  })
}

// <button type="button" data-app-copy="ID" data-app-copy-status="STATUS-ID" hidden>Copy</button>
// copies the text of element ID; the button stays hidden where the clipboard cannot be written
// (the text itself is always on the page to select by hand).
for (const button of document.querySelectorAll('[data-app-copy]')) {
  const source = document.getElementById(button.dataset.appCopy)
  const status = document.getElementById(button.dataset.appCopyStatus)
  if (!source || !navigator.clipboard) continue
  button.hidden = false
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(source.textContent.trim())
      if (status) status.textContent = 'Link copied.'
    } catch (error) {
      if (status) status.textContent = 'The link could not be copied: select it and copy it instead.'
    }
  })
}

// Outcome measure entry: keep answers safe while they are given (see measure-entry.js).
const measureForm = document.querySelector('[data-measure-entry]')
const measureSaved = document.querySelector('[data-measure-saved]')
if (measureForm || measureSaved) {
  import('./measure-entry.js').then(({ initMeasureEntry, forgetSavedMeasure }) => {
    if (measureForm) initMeasureEntry(measureForm)
    if (measureSaved) forgetSavedMeasure(measureSaved)
  })
}

// Bulk certificate issue: a live progress bar (see bulk-progress.js).
const bulkProgress = document.querySelector('[data-app-bulk-progress]')
if (bulkProgress) {
  import('./bulk-progress.js').then(({ initBulkProgress }) => initBulkProgress(bulkProgress))
}

// Bulk import of people: a live progress bar (see import-progress.js).
const importProgress = document.querySelector('[data-app-import-progress]')
if (importProgress) {
  import('./import-progress.js').then(({ initImportProgress }) => initImportProgress(importProgress))
}

// "Choose a person" fields: search as you type (see people.js).
if (document.querySelector('[data-person-picker]')) {
  import('./people.js').then(({ initPeoplePickers }) => initPeoplePickers())
}
