# One entry point for people and CI. Every target installs what it needs (uv, then the locked
# workspace) by itself: nothing here depends on what someone installed by hand.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON ?= $(shell command -v python3)
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin

# The services are the folders services/<name>/ holding src/<package>/ and a pyproject.toml:
# nothing else lists them (docs/adding-a-service.md). The workspace takes them by the glob
# services/*, the import contracts through saas-lint-imports, the local platform from their
# templates; `make list-services` shows what this file found.
SERVICE_INITS := $(sort $(wildcard services/*/src/*/__init__.py))
SERVICES := $(foreach f,$(SERVICE_INITS),$(word 2,$(subst /, ,$(f))))
# package_of,order = order_service; distribution_of,order = order-service (its pyproject's name)
package_of = $(word 4,$(subst /, ,$(filter services/$(1)/src/%,$(SERVICE_INITS))))
distribution_of = $(or $(STACK_CODE_$(1)),$(shell sed -n 's/^name = "\([^"]*\)".*/\1/p' services/$(1)/pyproject.toml | head -n 1))
# Deployable stacks: every services/*/template.yaml. A template-only stack names the workspace
# distribution that carries its code: the event log's is the runtime half of saas-devtools.
DEPLOYABLES := $(patsubst services/%/template.yaml,%,$(wildcard services/*/template.yaml))
STACK_CODE_event-log := saas-devtools
TEMPLATES := $(strip $(wildcard infra/*.yaml) $(wildcard services/*/template.yaml))
TYPED := -p tenant_context $(foreach s,$(SERVICES),-p $(call package_of,$(s))) -p saas_devtools

.PHONY: help uv sync lint test package deploy deploy-web run bench bench-onboarding contracts replay clean check-service check-deployable list-services new-service can-i-deploy workflows check-deploy-stage faults redrive usage

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

uv: ## install uv when the machine has none (through pip, into .tools/)
	@test -x "$(UV)" || python3 -m pip install --quiet --disable-pip-version-check --target .tools uv

sync: uv ## install the whole locked workspace into .venv
	@$(UV) sync --locked --all-packages --quiet

lint: sync ## ruff, mypy (every package), import-linter (.importlinter over every service), cfn-lint, contract drift
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(TYPED)
	$(BIN)/saas-lint-imports
	$(if $(TEMPLATES),$(BIN)/cfn-lint $(TEMPLATES),@echo "cfn-lint: no templates yet")
	$(BIN)/saas-contracts check
	$(BIN)/saas-pipelines --check
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

check-service:
	@test -z "$(SERVICE)" || [[ " $(SERVICES) " == *" $(SERVICE) "* ]] || { echo "SERVICE must be one of: $(SERVICES)"; exit 2; }

check-deployable:
	@test -z "$(SERVICE)" || [[ " $(DEPLOYABLES) " == *" $(SERVICE) "* ]] || { echo "SERVICE must be one of: $(DEPLOYABLES)"; exit 2; }

# pytest processes for `make test` (pytest-xdist; a test file stays in one, so its module's
# platform is started once). Most of the time is spent waiting on local platforms, so two
# processes finish sooner even on two cores; TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2

ifeq ($(SERVICE),)
test: lint console chromium ## lint, then every test (SERVICE=order: that service's tests alone, in its own environment; TEST_WORKERS=N)
	cd web && npm test
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --durations=40 shared/tenant-context/tests $(wildcard $(foreach s,$(SERVICES),services/$(s)/tests)) tests
else
test: check-service uv
	UV_PROJECT_ENVIRONMENT=$(CURDIR)/.venvs/$(SERVICE) $(UV) sync --locked --package $(call distribution_of,$(SERVICE)) --quiet
	cd services/$(SERVICE) && $(CURDIR)/.venvs/$(SERVICE)/bin/pytest tests
endif

package: check-deployable uv ## SERVICE=order: a Lambda zip in dist/ with that service, tenant-context and their runtime dependencies
	@test -n "$(SERVICE)" || { echo "usage: make package SERVICE=<$(DEPLOYABLES)>"; exit 2; }
	rm -rf build/$(SERVICE) dist/$(SERVICE).zip && mkdir -p build/$(SERVICE)/python dist
	# boto3 and botocore are left out: the Lambda Python runtime provides them.
	$(UV) export --locked --quiet --package $(call distribution_of,$(SERVICE)) --no-dev --no-hashes --no-editable \
		--no-emit-package boto3 --no-emit-package botocore --no-emit-package s3transfer \
		--format requirements-txt -o build/$(SERVICE)/requirements.txt
	# Workspace members are rebuilt every time: uv would otherwise reuse a wheel of the same version.
	$(UV) pip install --quiet --no-deps --no-compile --target build/$(SERVICE)/python \
		--refresh-package $(call distribution_of,$(SERVICE)) --refresh-package tenant-context \
		--python-platform x86_64-manylinux2014 --python-version 3.11 -r build/$(SERVICE)/requirements.txt
	# Bytecode ships in the zip: Lambda's /var/task is read-only, so without it every cold start
	# compiles each module it imports (twice the init time). unchecked-hash: the runtime trusts
	# the .pyc without comparing source timestamps, which zip extraction does not keep.
	$(UV) run --no-project --python 3.11 --quiet -- python -m compileall -q -j 0 \
		--invalidation-mode unchecked-hash build/$(SERVICE)/python > /dev/null
	cd build/$(SERVICE)/python && zip -qrX $(CURDIR)/dist/$(SERVICE).zip . -x '.lock' -x 'bin/*'
	@echo "dist/$(SERVICE).zip: $$(du -h dist/$(SERVICE).zip | cut -f1)"

# A service's route permissions (its src/<package>/entrypoints/permissions.json) go to its stack
# as the RoutePermissions parameter, which the stack publishes for the authorizer: compact JSON,
# double-quoted as sam's --parameter-overrides reads a value with quotes in it.
PERMISSIONS_FILE = $(wildcard services/$(SERVICE)/src/*/entrypoints/permissions.json)
# CONSOLE_ORIGIN=https://<the console stack's ConsoleOrigin output>: the origin an API answers
# CORS for (its template's ConsoleOrigin; "*" until the console is deployed).
CONSOLE_ORIGIN_OVERRIDE = $(if $(CONSOLE_ORIGIN),$(if $(shell grep -s '^  ConsoleOrigin:' services/$(SERVICE)/template.yaml), ConsoleOrigin=$(CONSOLE_ORIGIN)))
PERMISSIONS_OVERRIDE = $(if $(PERMISSIONS_FILE),--parameter-overrides "$$(python3 -c 'import json, sys; print("RoutePermissions=" + json.dumps(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":"))))' $(PERMISSIONS_FILE))$(CONSOLE_ORIGIN_OVERRIDE)")

# The stage a deploy goes to and can-i-deploy checks against: STAGE=dev on the command line (or
# in the environment); `local` when the local platform runs (.local/platform.json), else required.
# The AWS account is the one of the environment's credentials: one account per stage.
STAGE ?= $(if $(wildcard .local/platform.json),local)
STAGE_REQUIRED = @test -n "$(STAGE)" || { echo "STAGE is required (local when the local platform runs): make $@ SERVICE=$(SERVICE) STAGE=dev"; exit 2; }

can-i-deploy: check-deployable sync ## SERVICE=order [STAGE=dev]: refuse, with the reasons, what the stage's other deployed services cannot work with
	@test -n "$(SERVICE)" || { echo "usage: make can-i-deploy SERVICE=<$(DEPLOYABLES)> STAGE=<stage>"; exit 2; }
	$(STAGE_REQUIRED)
	$(BIN)/saas-contracts can-i-deploy --service $(SERVICE) --stage $(STAGE)

check-deploy-stage:
	$(STAGE_REQUIRED)
	@test "$(STAGE)" != local || test -f .local/platform.json || { echo "STAGE=local: no local platform runs (.local/platform.json): start it with make run, or pick a stage: STAGE=dev"; exit 2; }

ifeq ($(SERVICE),web)
deploy: deploy-web
else
deploy: check-deployable check-deploy-stage can-i-deploy package ## SERVICE=order STAGE=dev [REGIONS="us-east-1 eu-west-1"] [CONSOLE_ORIGIN=https://...]: can-i-deploy, then that service's stack alone (SAM CLI, every region of the map; STAGE=local: into the running local platform), then its contracts recorded; SERVICE=web: the console
	@test -n "$(SERVICE)" || { echo "usage: make deploy SERVICE=<$(DEPLOYABLES) web>"; exit 2; }
ifeq ($(STAGE),local)
	$(BIN)/saas-local deploy --service $(SERVICE)
else
	for region in $(or $(REGIONS),us-east-1 eu-west-1); do \
		$(UV) tool run --from aws-sam-cli sam deploy --template-file services/$(SERVICE)/template.yaml \
			--stack-name saas-$(SERVICE) --region $$region --resolve-s3 --no-fail-on-empty-changeset \
			--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND $(PERMISSIONS_OVERRIDE) || exit 1; \
	done
endif
	$(BIN)/saas-contracts record --service $(SERVICE) --stage $(STAGE)
endif

# The web console (web/, infra/console.yaml) in the home region, after the platform and the API
# stacks (it reads their exports): build, deploy the stack, upload web/dist with the config.json
# the stack wrote from the exports (hashed assets cached for good, the rest revalidated), then
# invalidate CloudFront's copies. Then give the APIs its origin:
#   make deploy SERVICE=tenant CONSOLE_ORIGIN=$$(the ConsoleOrigin output), and order, product.
CONSOLE_STACK ?= saas-web
CONSOLE_REGION ?= us-east-1
AWS = $(UV) tool run --from awscli aws --region $(CONSOLE_REGION)
console_output = $$($(AWS) cloudformation describe-stacks --stack-name $(CONSOLE_STACK) --query "Stacks[0].Outputs[?OutputKey=='$(1)'].OutputValue" --output text)

deploy-web: uv ## the web console: npm ci + build, its stack (infra/console.yaml), upload, invalidation (CONSOLE_REGION=us-east-1)
	cd web && npm ci --no-audit --no-fund && npm run build
	$(AWS) cloudformation deploy --template-file infra/console.yaml --stack-name $(CONSOLE_STACK) \
		--no-fail-on-empty-changeset
	rm -rf build/web && mkdir -p build/web && cp -R web/dist/. build/web/
	$(AWS) ssm get-parameter --name "$(call console_output,ConfigParameterName)" \
		--query Parameter.Value --output text > build/web/config.json
	bucket="$(call console_output,BucketName)" && \
		$(AWS) s3 sync build/web/assets "s3://$$bucket/assets" --delete \
			--cache-control "public, max-age=31536000, immutable" && \
		$(AWS) s3 sync build/web "s3://$$bucket" --delete --exclude "assets/*" \
			--cache-control "no-cache"
	$(AWS) cloudfront create-invalidation --distribution-id "$(call console_output,DistributionId)" \
		--paths "/*" > /dev/null
	@echo "console: $(call console_output,ConsoleUrl)"

workflows: sync ## write .github/workflows/<service>.yml for every services/*/template.yaml, and ci.yml
	$(BIN)/saas-pipelines

bench: sync ## every benchmark: one table, then onboarding at 100 and 1000 tenants (BENCH="cold_start ..." runs some of the table alone)
	$(BIN)/python -m bench $(BENCH)
	$(if $(BENCH),,$(BIN)/python -m bench.onboarding $(SIZES))

bench-onboarding: sync ## tenants through the local platform and back out (SIZES="100 1000"): tenants/s, growth, no stack left
	$(BIN)/python -m bench.onboarding $(SIZES)

run: sync ## the whole platform on this machine, in the foreground (API_PORT=8080, CONSOLE_PORT=8081, REGION_MAP='{"us":"us-east-1",...}', FAULTS=dynamodb.throttle=0.1 FAULT_SEED=7); Ctrl-C stops it; its data is kept in .local/state for the next run (FRESH=1 starts empty)
	# The console (web/) is built first when its sources changed; without npm it is left out.
	$(BIN)/saas-local --root $(CURDIR) build-console
	$(BIN)/saas-local --root $(CURDIR) $(if $(filter-out 0,$(FRESH)),--fresh)

faults: sync ## the running platform's faults: FAULTS='kind=share,...' (or JSON, or a file) replaces them, FAULTS= turns them off, none given prints them and the counts
	$(BIN)/saas-local --root $(CURDIR) faults

redrive: sync ## a dead-letter queue's messages back to where they are processed: ARGS="--queue saas-product-events-dlq" (--list, --dry-run, --aws; saas-redrive --help)
	$(BIN)/saas-redrive --root $(CURDIR) $(ARGS)

# The web console (web/): `npm ci` when package-lock.json changed, the build when a source did.
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) $(wildcard web/index.html web/*.json web/*.ts) \
	$(wildcard services/*/contracts/permissions.json)
web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@
web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build

.PHONY: console chromium
console: web/dist/index.html ## build the web console into web/dist (only when its sources changed)

chromium: ## Debian's chromium for the console's browser tests, installed when missing (as root)
	@test -x /usr/bin/chromium || [ "$$(id -u)" != 0 ] || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

list-services: ## the services this Makefile found: name, distribution, import package
	@$(foreach s,$(SERVICES),echo "$(s) $(call distribution_of,$(s)) $(call package_of,$(s))";)

new-service: sync ## NAME=invoice: scaffold services/invoice in the one shape (docs/adding-a-service.md), lock it into the workspace
	@test -n "$(NAME)" || { echo "usage: make new-service NAME=<name>"; exit 2; }
	$(BIN)/saas-new-service $(NAME)
	$(UV) lock --quiet
	$(UV) sync --locked --all-packages --quiet
	$(BIN)/saas-pipelines

contracts: sync ## write each service's contracts/ (event JSON Schemas, OpenAPI) from its code
	$(BIN)/saas-contracts export

replay: sync ## ARGS="--tenant <id> --since 1h --print": a tenant's events from the event log (saas-replay --help)
	$(BIN)/saas-replay $(ARGS)

usage: sync ## ARGS="--tenant <id> --from 2026-12-01 --to 2026-12-04": usage and cost per day (saas-usage --help)
	$(BIN)/saas-usage $(ARGS)

clean: ## remove environments, build output and local state
	rm -rf .venv .venvs build dist .local .pytest_cache .mypy_cache .ruff_cache
