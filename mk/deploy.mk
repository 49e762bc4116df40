# Deployment: the plugin's OCI image, the local docker-compose Envoy, and their checks.
#   make image IMG=ghcr.io/you/hfi-fault-injection:0.1.0   build with docker, else buildah
#   make push  IMG=...                                      push it; prints the digest to pin
#   make compose-up / compose-down                          real Envoy + echo server locally

.PHONY: image push compose-up compose-down compose-config plugin-sha256 test-deploy

IMG ?= localhost/hfi-fault-injection:dev
# Where there is no Docker engine, buildah builds and pushes without one (vfs works anywhere).
BUILDAH ?= buildah --storage-driver vfs
# Extra flags for `buildah push`, e.g. --tls-verify=false for a plain-HTTP registry.
PUSH_FLAGS ?=
# Recursive variables: the probes run only when a recipe uses them.
IMAGE_TOOL ?= $(shell if docker info >/dev/null 2>&1; then echo docker; \
	elif command -v buildah >/dev/null 2>&1; then echo buildah; else echo none; fi)
COMPOSE ?= $(shell if docker compose version >/dev/null 2>&1; then echo docker compose; \
	else echo docker-compose; fi)

image: build/plugin.wasm
	@case "$(IMAGE_TOOL)" in \
	  docker)  set -x; docker build -t "$(IMG)" . ;; \
	  buildah) set -x; $(BUILDAH) bud --isolation chroot -t "$(IMG)" . ;; \
	  *) echo "make image: needs docker (with a running engine) or buildah" >&2; exit 1 ;; \
	esac

push:
	@case "$(IMAGE_TOOL)" in \
	  docker)  set -x; docker push "$(IMG)"; set +x; \
	           echo "pin it: $$(docker inspect --format '{{index .RepoDigests 0}}' "$(IMG)")" ;; \
	  buildah) set -x; $(BUILDAH) push $(PUSH_FLAGS) --digestfile build/image.digest "$(IMG)" "docker://$(IMG)"; set +x; \
	           echo "pin it: $(IMG)@$$(cat build/image.digest)" ;; \
	  *) echo "make push: needs docker (with a running engine) or buildah" >&2; exit 1 ;; \
	esac

# sha256 of the module itself: what WasmPlugin.sha256 checks for https:// and file:// urls.
# (For oci:// urls Istio checks the image's manifest digest instead: see `make push`.)
plugin-sha256: build/plugin.wasm
	@sha256sum build/plugin.wasm | cut -d' ' -f1

compose-up: build/plugin.wasm
	$(COMPOSE) up -d
	@echo "Envoy on http://localhost:10000 (admin http://localhost:9901); try: curl -i localhost:10000/checkout"

compose-down:
	$(COMPOSE) down

compose-config:
	docker-compose config -q

# The deployment checks (manifests, Envoy configs, compose file, image round trip).
test-deploy: build/plugin.wasm
	node --import tsx --test tests/deploy/*.test.ts
