from django.urls import include, path

from utilities.urls import get_model_urls

from . import views  # noqa: F401  (registers the views)
from .models import ALL_MODELS

urlpatterns = []
for model, prefix in ALL_MODELS:
    name = model._meta.model_name
    urlpatterns += [
        path(f'{prefix}/', include(get_model_urls('netbox_hedgehog', name, detail=False))),
        path(f'{prefix}/<int:pk>/', include(get_model_urls('netbox_hedgehog', name))),
    ]
