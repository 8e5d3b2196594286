# Mail sink for local trials (compose profile `dev`): scripts/smtp_sink.py accepts every message on port 2525
# and keeps each as a JSON file under /var/lib/mail-sink (read them with
# `docker-compose exec mail-sink sh -c 'cat /var/lib/mail-sink/*.json'`). Never for production.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 python3-aiosmtpd && \
    rm -rf /var/lib/apt/lists/* && \
    useradd --uid 10002 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin mailsink && \
    mkdir -p /var/lib/mail-sink && chown mailsink:mailsink /var/lib/mail-sink
COPY scripts/smtp_sink.py /usr/local/bin/smtp_sink.py
USER mailsink
EXPOSE 2525
VOLUME /var/lib/mail-sink
HEALTHCHECK --interval=5s --timeout=3s --retries=5 \
    CMD python3 -c "import socket; socket.create_connection(('127.0.0.1', 2525), 2).close()"
ENTRYPOINT ["python3", "/usr/local/bin/smtp_sink.py", "--host", "0.0.0.0", "--port", "2525", \
            "--maildir", "/var/lib/mail-sink"]
