# Deployment: the plugin's OCI image, the local docker-compose Envoy, and their checks.
#   make image IMG=ghcr.io/you/hfi-fault-injection:0.1.0   build with docker, else buildah
#   make push  IMG=...                                      push it; prints the digest to pin
#   make compose-up / compose-down                          real Envoy + echo server locally
# docs/deploying.md is the guide to all of these.

.PHONY: image push compose-up compose-down compose-config plugin-sha256 test-deploy

IMG ?= localhost/hfi-fault-injection:dev
# Where there is no Docker engine, buildah builds and pushes without one (vfs works anywhere).
BUILDAH ?= buildah --storage-driver vfs
# Extra flags for `buildah push`, e.g. --tls-verify=false for a plain-HTTP registry.
PUSH_FLAGS ?=
# Where `make push` keeps the digest of the manifest it pushed. Removed before every push, so
# whatever is there afterwards came from this push.
DIGEST_FILE ?= build/image.digest
# The image reference it pinned (IMG@digest): hfi render's image when --image is not given.
PINNED_FILE ?= build/image.pinned
# Recursive variables: the probes run only when a recipe uses them.
IMAGE_TOOL ?= $(shell if docker info >/dev/null 2>&1; then echo docker; \
	elif command -v buildah >/dev/null 2>&1; then echo buildah; else echo none; fi)
COMPOSE ?= $(shell if docker compose version >/dev/null 2>&1; then echo docker compose; \
	elif command -v docker-compose >/dev/null 2>&1; then echo docker-compose; fi)

image: build/plugin.wasm ## the plugin's OCI image IMG, with docker, else buildah
	@case "$(IMAGE_TOOL)" in \
	  docker)  set -x; docker build -t "$(IMG)" . ;; \
	  buildah) set -x; $(BUILDAH) bud --isolation chroot -t "$(IMG)" . ;; \
	  *) echo "make image: needs docker (with a running engine) or buildah" >&2; exit 1 ;; \
	esac

# A failed push exits non-zero with one line naming the likely fix; `pin it:` is printed only
# for a well-formed digest this very push produced (buildah's --digestfile, or the
# "<tag>: digest: sha256:... size: N" line docker push ends with).
push: ## push IMG; prints the digest to pin
	@set -o pipefail; rm -f "$(DIGEST_FILE)" "$(PINNED_FILE)"; mkdir -p "$(dir $(DIGEST_FILE))"; \
	log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	case "$(IMAGE_TOOL)" in \
	  docker)  echo "+ docker push $(IMG)"; docker push "$(IMG)" 2>&1 | tee "$$log"; status=$$?; \
	           grep -o 'digest: sha256:[0-9a-f]*' "$$log" | tail -n 1 | cut -d' ' -f2 > "$(DIGEST_FILE)" ;; \
	  buildah) echo "+ $(BUILDAH) push $(PUSH_FLAGS) --digestfile $(DIGEST_FILE) $(IMG) docker://$(IMG)"; \
	           $(BUILDAH) push $(PUSH_FLAGS) --digestfile "$(DIGEST_FILE)" "$(IMG)" "docker://$(IMG)" 2>&1 | tee "$$log"; status=$$? ;; \
	  *) echo "make push: needs docker (with a running engine) or buildah" >&2; exit 1 ;; \
	esac; \
	if [ $$status -ne 0 ]; then \
	  rm -f "$(DIGEST_FILE)"; \
	  case "$$(cat "$$log")" in \
	    *"server gave HTTP response to HTTPS client"*) if [ "$(IMAGE_TOOL)" = buildah ]; \
	      then fix="the registry speaks plain HTTP: for a plain-HTTP registry set PUSH_FLAGS=--tls-verify=false"; \
	      else fix="the registry speaks plain HTTP: list it under insecure-registries in Docker's daemon.json"; fi ;; \
	    *"connection refused"*|*"no such host"*|*"no route to host"*|*"i/o timeout"*) \
	      fix="nothing answered at the registry address: check the host and port in IMG and that the registry is up" ;; \
	    *"image not known"*|*"No such image"*|*"does not exist locally"*) \
	      fix="there is no local image of that name: build it first with make image IMG=$(IMG)" ;; \
	    *"unauthorized"*|*"authentication required"*|*"denied"*) \
	      fix="the registry refused the push: log in first ($(IMAGE_TOOL) login <registry>)" ;; \
	    *"x509"*|*"certificate"*) \
	      fix="the registry's TLS certificate is not trusted: add its CA, or PUSH_FLAGS=--tls-verify=false" ;; \
	    *) fix="see $(IMAGE_TOOL)'s error above" ;; \
	  esac; \
	  echo "make push: pushing $(IMG) failed ($(IMAGE_TOOL) push exited $$status): $$fix; no digest printed" >&2; \
	  exit 1; \
	fi; \
	digest=$$(cat "$(DIGEST_FILE)" 2>/dev/null); \
	if [[ ! "$$digest" =~ ^sha256:[0-9a-f]{64}$$ ]]; then \
	  rm -f "$(DIGEST_FILE)"; \
	  echo "make push: $(IMG) was pushed but $(IMAGE_TOOL) reported no manifest digest ('$$digest'); nothing to pin, check the registry" >&2; \
	  exit 1; \
	fi; \
	echo "$(IMG)@$$digest" > "$(PINNED_FILE)"; \
	echo "pin it: $(IMG)@$$digest"

# sha256 of the module itself: what WasmPlugin.sha256 checks for https:// and file:// urls.
# (For oci:// urls Istio checks the image's manifest digest instead: see `make push`.)
plugin-sha256: build/plugin.wasm ## sha256 of build/plugin.wasm, for WasmPlugin.sha256
	@sha256sum build/plugin.wasm | cut -d' ' -f1

# The engine is checked before anything is built: without one, compose can only fail (and
# Debian's docker-compose does so with a Python traceback).
define need_docker_engine
	@if ! command -v docker >/dev/null 2>&1; then \
	  echo "make $@: docker is not installed; compose needs Docker with a running engine (or try make run, which needs neither)" >&2; exit 1; \
	elif ! docker info >/dev/null 2>&1; then \
	  echo "make $@: cannot reach a Docker engine (docker info failed): start Docker or check access to its socket, or try make run, which needs neither" >&2; exit 1; \
	elif [ -z "$(COMPOSE)" ]; then \
	  echo "make $@: neither docker compose nor docker-compose is installed" >&2; exit 1; \
	fi
endef

compose-up: ## real Envoy + echo server with compose (needs a Docker engine)
	$(need_docker_engine)
	@$(MAKE) --no-print-directory build/plugin.wasm
	$(COMPOSE) up -d
	@echo "Envoy on http://localhost:10000 (admin http://localhost:9901); try: curl -i localhost:10000/checkout"

compose-down: ## stop what compose-up started
	$(need_docker_engine)
	$(COMPOSE) down

# Parses and validates docker-compose.yaml; needs no Docker engine, so no need_docker_engine.
compose-config: ## check docker-compose.yaml (config -q) with docker compose, else docker-compose
	@if [ -z "$(COMPOSE)" ]; then \
	  echo "make $@: neither docker compose nor docker-compose is installed" >&2; exit 1; \
	fi
	$(COMPOSE) config -q

# The deployment checks (manifests, Envoy configs, compose file, image round trip).
test-deploy: build/plugin.wasm ## the deployment checks: manifests, Envoy configs, compose file, image
	node --import tsx --test tests/deploy/*.test.ts
