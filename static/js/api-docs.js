// Starts Swagger UI on /api/docs from a file, so the page needs no inline script.
const root = document.getElementById("swagger-ui");
window.SwaggerUIBundle({ url: root.dataset.spec, domNode: root, deepLinking: true });
