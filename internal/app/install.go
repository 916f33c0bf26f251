package app

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// installArgoCD installs Argo CD into a fabric's cluster.
func (a *App) installArgoCD(c echo.Context) error {
	return c.JSON(http.StatusNotImplemented, map[string]string{"error": "Argo CD installation is not built yet"})
}
