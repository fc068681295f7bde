"""Server-rendered pages: templates, static files and the middleware that keeps them safe."""
