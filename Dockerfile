# The Airflow image of the review calendar, built by docker-compose.yaml (`build: .`).
#
# The official image extended as in Airflow's "Adding packages from requirements.txt"
# recipe. requirements.lock pins every distribution (Airflow included), so no
# constraints file is passed: the lock is the constraint. Airflow itself stays at the
# image's version because the lock pins the same apache-airflow; pip fails if they differ.
FROM apache/airflow:3.3.2-python3.11

# The image's default user is `airflow`; installing as root would put packages
# outside the image's virtualenv (/home/airflow/.local).
USER airflow

COPY --chown=airflow:0 requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /tmp/requirements.lock

# The review_calendar package (console script `review-calendar`). Its dependencies are
# all in the lock, hence --no-deps. The demo and test support (include/review_calendar_demo)
# is neither in the build context (.dockerignore) nor in the distribution (pyproject.toml).
# docker-compose.yaml also mounts ./include on PYTHONPATH, so a running stack uses the
# checked-out code without a rebuild (and can load the demo province when asked).
COPY --chown=airflow:0 pyproject.toml README.md /tmp/review-calendar/
COPY --chown=airflow:0 include/ /tmp/review-calendar/include/
RUN pip install --no-cache-dir --no-deps /tmp/review-calendar \
    && rm -rf /tmp/review-calendar /tmp/requirements.lock
