# Writes the configuration schema as a C++ raw string literal (kConfigSchema) into OUT.
file(READ "${SCHEMA}" content)
file(WRITE "${OUT}.tmp" "static const char kConfigSchema[] = R\"t0wschema(${content})t0wschema\";\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
