// The interactive API reference on /api/v1/docs: Swagger UI (static/vendor/swagger-ui, loaded
// just before this module) reading the OpenAPI document named by the mount's data-spec-url.
// An external module, because the Content-Security-Policy forbids inline scripts.
const mount = document.querySelector('[data-app-api-reference]')

if (mount && window.SwaggerUIBundle) {
  window.SwaggerUIBundle({
    domNode: mount,
    url: mount.dataset.specUrl,
    // The base layout: the standalone one adds a top bar with an inline <style>, which CSP forbids.
    layout: 'BaseLayout',
    // Deep links would put a link inside each operation's toggle button (nested controls).
    deepLinking: false,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    // Never send the document to an outside validator.
    validatorUrl: null,
    // Tokens typed into "Authorize" stay in this page only.
    persistAuthorization: false
  })

  // The viewer's dialogs close with an icon-only button: give it a name screen readers can announce.
  const nameCloseButtons = () => {
    for (const button of mount.querySelectorAll('button.close-modal:not([aria-label])')) {
      button.setAttribute('aria-label', 'Close dialog')
    }
  }
  new MutationObserver(nameCloseButtons).observe(mount, { childList: true, subtree: true })
}
