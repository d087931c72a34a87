// Live entry of an outcome measure in a client session.
//
// Answers are kept in this browser's storage as they are given, so a dropped connection, a
// reload or a closed tab loses nothing: reopening the same measure for the same case puts
// them back. They hold no identifiers (the case is known only by its code; a client's link by
// its invitation's number, never its token), expire after a day, and are removed as soon as
// the server has saved the measure.
const PREFIX = 'vigtrain:measure:'
const LIFETIME_MS = 24 * 60 * 60 * 1000

function read (key) {
  try {
    const stored = JSON.parse(window.localStorage.getItem(key) || 'null')
    if (stored && Date.now() - stored.savedAt < LIFETIME_MS) return stored.values
    window.localStorage.removeItem(key)
  } catch (error) {
    // storage unavailable or corrupt: entry still works, just without the safety net
  }
  return null
}

function write (key, values) {
  try {
    window.localStorage.setItem(key, JSON.stringify({ savedAt: Date.now(), values }))
  } catch (error) {
    // private browsing or a full quota: nothing to do
  }
}

function formValues (form) {
  const values = {}
  for (const element of form.elements) {
    if (!element.name || element.name === 'csrf_token' || element.type === 'submit') continue
    if (element.type === 'radio') {
      if (element.checked) values[element.name] = element.value
    } else if (element.id) {
      // The three date boxes share one name: keep each by its id.
      values['#' + element.id] = element.value
    }
  }
  return values
}

function restore (form, values) {
  let restored = 0
  for (const [key, value] of Object.entries(values)) {
    if (key.startsWith('#')) {
      const element = form.querySelector(`#${CSS.escape(key.slice(1))}`)
      if (element && value) element.value = value
      continue
    }
    for (const element of form.querySelectorAll(`[name="${CSS.escape(key)}"]`)) {
      if (element.type === 'radio' && element.value === value) {
        element.checked = true
        restored += 1
      }
    }
  }
  return restored
}

function updateProgress (form, output) {
  const groups = form.querySelectorAll('[data-measure-item]')
  const answered = [...groups].filter((group) => group.querySelector('input[type="radio"]:checked')).length
  output.textContent = `${answered} of ${groups.length} answered`
}

export function initMeasureEntry (form) {
  const key = PREFIX + form.dataset.measureEntry
  const output = form.querySelector('[data-measure-progress]')
  const notice = document.querySelector('[data-measure-restored]')
  const anyAnswered = form.querySelector('[data-measure-item] input[type="radio"]:checked')
  const saved = read(key)
  // After a refused submission the server shows back what was sent: that wins over storage.
  if (saved && !anyAnswered && restore(form, saved) > 0 && notice) notice.hidden = false
  if (output) {
    output.hidden = false
    updateProgress(form, output)
  }
  form.addEventListener('change', () => {
    write(key, formValues(form))
    if (output) updateProgress(form, output)
  })
  form.addEventListener('input', () => write(key, formValues(form)))
}

// `data-measure-saved` names one key, or several separated by spaces (a client's link sends
// every questionnaire it asked for at once).
export function forgetSavedMeasure (element) {
  for (const key of element.dataset.measureSaved.split(/\s+/).filter(Boolean)) {
    try {
      window.localStorage.removeItem(PREFIX + key)
    } catch (error) {
      // nothing stored, or storage unavailable
    }
  }
}
