// "Choose a person" fields (templates/_macros/people.html): without JavaScript the Search button
// posts the form and the page lists who was found; with it, the search box becomes a combobox
// (the ARIA "list autocomplete" pattern) that asks the server as you type, and choosing someone
// sets the same radios the form would have posted.

const MIN_LETTERS = 2
const WAIT_MS = 200

function element (tag, attributes = {}, text = '') {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value)
  if (text) node.textContent = text
  return node
}

function enhance (picker, index) {
  const input = picker.querySelector('.app-person-search__input')
  const choices = picker.querySelector('[data-person-choices]')
  const url = picker.dataset.searchUrl
  const name = picker.dataset.fieldName
  if (!input || !choices || !url) return

  const listId = `${input.id}-listbox`
  const list = element('ul', { id: listId, role: 'listbox', class: 'app-person-search__list', 'aria-label': 'People found' })
  list.hidden = true
  const status = element('div', { class: 'govuk-visually-hidden', role: 'status', 'aria-live': 'polite' })
  input.closest('.app-person-search').append(list, status)
  input.setAttribute('role', 'combobox')
  input.setAttribute('aria-autocomplete', 'list')
  input.setAttribute('aria-expanded', 'false')
  input.setAttribute('aria-controls', listId)

  let active = -1
  let asked = 0
  let timer = null

  const options = () => Array.from(list.querySelectorAll('[role="option"]'))

  function close () {
    list.hidden = true
    input.setAttribute('aria-expanded', 'false')
    input.removeAttribute('aria-activedescendant')
    active = -1
  }

  function highlight (position) {
    const all = options()
    if (!all.length) return
    active = (position + all.length) % all.length
    all.forEach((option, at) => option.setAttribute('aria-selected', at === active ? 'true' : 'false'))
    input.setAttribute('aria-activedescendant', all[active].id)
    all[active].scrollIntoView({ block: 'nearest' })
  }

  function choose (option) {
    const id = option.dataset.id
    const radioId = `${input.id}-${id}`
    choices.replaceChildren()
    const item = element('div', { class: 'govuk-radios__item' })
    const radio = element('input', { class: 'govuk-radios__input', id: radioId, name, type: 'radio', value: id })
    radio.checked = true
    const label = element('label', { class: 'govuk-label govuk-radios__label', for: radioId }, option.dataset.name)
    item.append(radio, label)
    if (option.dataset.hint) {
      radio.setAttribute('aria-describedby', `${radioId}-hint`)
      item.append(element('div', { id: `${radioId}-hint`, class: 'govuk-hint govuk-radios__hint' }, option.dataset.hint))
    }
    choices.append(item)
    choices.hidden = false
    input.value = ''
    close()
    status.textContent = `Chosen: ${option.dataset.name}`
  }

  function show (people, more) {
    list.replaceChildren()
    people.forEach((person, at) => {
      const option = element('li', {
        id: `${listId}-${at}`,
        role: 'option',
        class: 'app-person-search__option',
        'aria-selected': 'false',
        'data-id': person.id,
        'data-name': person.name,
        'data-hint': person.hint || ''
      })
      option.append(element('span', { class: 'app-person-search__name' }, person.name))
      if (person.hint) option.append(element('span', { class: 'app-person-search__hint' }, person.hint))
      option.addEventListener('mousedown', (event) => event.preventDefault())
      option.addEventListener('click', () => choose(option))
      list.append(option)
    })
    if (!people.length) {
      list.append(element('li', { class: 'app-person-search__none', role: 'presentation' }, 'Nobody found'))
    }
    list.hidden = false
    input.setAttribute('aria-expanded', people.length ? 'true' : 'false')
    active = -1
    const found = people.length === 1 ? '1 person found' : `${people.length} people found`
    status.textContent = more ? `${found}, more match: type more of the name` : found
  }

  async function ask () {
    const term = input.value.trim()
    if (term.length < MIN_LETTERS) {
      close()
      return
    }
    const mine = ++asked
    try {
      const response = await fetch(`${url}${url.includes('?') ? '&' : '?'}q=${encodeURIComponent(term)}`, {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin'
      })
      if (!response.ok || mine !== asked) return
      const found = await response.json()
      if (mine === asked) show(found.results, found.more)
    } catch (error) {
      // The Search button still works when the network does not.
    }
  }

  input.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(ask, WAIT_MS)
  })
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' && !list.hidden) {
      event.preventDefault()
      highlight(active + 1)
    } else if (event.key === 'ArrowUp' && !list.hidden) {
      event.preventDefault()
      highlight(active - 1)
    } else if (event.key === 'Enter' && !list.hidden && active >= 0) {
      event.preventDefault()
      choose(options()[active])
    } else if (event.key === 'Escape' && !list.hidden) {
      event.preventDefault()
      close()
    }
  })
  input.addEventListener('blur', () => setTimeout(close, 150))
  picker.dataset.personPickerIndex = String(index)
}

export function initPeoplePickers () {
  document.querySelectorAll('[data-person-picker]').forEach(enhance)
}
