from netbox.api.routers import NetBoxRouter

from ..models import ALL_MODELS
from .views import GitOpsResourceViewSet, viewset_for

router = NetBoxRouter()
for model, path in ALL_MODELS:
    router.register(path, viewset_for(model))
router.register('gitops-resources', GitOpsResourceViewSet, basename='gitopsresource')

urlpatterns = router.urls
