from netbox.api.routers import NetBoxRouter

from ..models import CR_MODELS, HedgehogFabric
from .views import GitRepositoryViewSet, HedgehogResourceViewSet, viewset_for

router = NetBoxRouter()
router.register('fabrics', viewset_for(HedgehogFabric))
# The real plugin renamed its Git repository endpoint in July 2025; older builds served git-repositories/.
# The stand-in serves both (same model, same viewset); NetBox's `url` links point at git-repos-api/.
router.register('git-repos-api', GitRepositoryViewSet)
router.register('git-repositories', GitRepositoryViewSet, basename='gitrepository-legacy')
router.register('gitops-resources', HedgehogResourceViewSet)
for model, path in CR_MODELS:
    router.register(path, viewset_for(model))

urlpatterns = router.urls
