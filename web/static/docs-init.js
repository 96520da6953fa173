// The API description for admins, with Swagger UI served by this site (see web/docs.py): no CDN, no
// validator badge; "Try it out" sends the session's CSRF token like the pages do.
(() => {
  const csrf = document.querySelector('meta[name=csrf]').content;
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    layout: 'BaseLayout',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    requestInterceptor: (req) => { req.headers['X-CSRF-Token'] = csrf; return req; },
  });
})();
