package app

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// detectDrift compares one fabric's live CRs with Git now.
func (a *App) detectDrift(c echo.Context) error {
	return c.JSON(http.StatusNotImplemented, map[string]string{"error": "drift detection is not built yet"})
}
