package org.fasttrack.validator;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationOptions;
import ca.uhn.fhir.validation.ValidationResult;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.UnknownCodeSystemWarningValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * HAPI FHIR's R4B instance validator as one long-lived process, so a test run pays for the JVM
 * and the R4B core package once, not once per resource.
 *
 * <p>Arguments: folders of conformance resources (*.json: StructureDefinition, ValueSet,
 * CodeSystem, ...) to validate against besides the R4B core. Protocol, UTF-8 lines on stdin:
 * {@code VALIDATE [profile URL ...]}, then the resource as JSON on one line. The answer on stdout
 * is one line per issue, {@code severity TAB location TAB messageId TAB message} (tabs and line
 * breaks inside replaced by spaces), then {@code END}. {@code READY} is printed once at start.
 */
public final class ValidatorServer {
  private ValidatorServer() {}

  public static void main(String[] args) throws IOException {
    FhirContext context = FhirContext.forR4B();
    PrePopulatedValidationSupport project = new PrePopulatedValidationSupport(context);
    for (String folder : args) {
      try (Stream<Path> files = Files.list(Path.of(folder))) {
        for (Path file : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
          IBaseResource resource =
              context.newJsonParser().parseResource(Files.readString(file, StandardCharsets.UTF_8));
          project.addResource(resource);
        }
      }
    }
    UnknownCodeSystemWarningValidationSupport unknownSystems =
        new UnknownCodeSystemWarningValidationSupport(context);
    // SNOMED CT and LOINC need a terminology server we do not run: their codes are warnings.
    unknownSystems.setNonExistentCodeSystemSeverity(
        ca.uhn.fhir.context.support.IValidationSupport.IssueSeverity.WARNING);
    ValidationSupportChain chain =
        new ValidationSupportChain(
            project,
            new DefaultProfileValidationSupport(context),
            new CommonCodeSystemsTerminologyService(context),
            new InMemoryTerminologyServerValidationSupport(context),
            new SnapshotGeneratingValidationSupport(context),
            unknownSystems);
    FhirInstanceValidator module = new FhirInstanceValidator(chain);
    FhirValidator validator = context.newValidator().registerValidatorModule(module);

    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    BufferedWriter out =
        new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
    out.write("READY\n");
    out.flush();
    String command;
    while ((command = in.readLine()) != null) {
      if (command.isBlank()) {
        continue;
      }
      String body = in.readLine();
      if (body == null) {
        break;
      }
      List<String> lines = new ArrayList<>();
      try {
        ValidationOptions options = new ValidationOptions();
        String[] words = command.trim().split("\\s+");
        for (int i = 1; i < words.length; i++) {
          options.addProfile(words[i]);
        }
        ValidationResult result = validator.validateWithResult(body, options);
        for (SingleValidationMessage message : result.getMessages()) {
          lines.add(
              String.join(
                  "\t",
                  message.getSeverity().getCode(),
                  clean(message.getLocationString()),
                  clean(message.getMessageId()),
                  clean(message.getMessage())));
        }
      } catch (RuntimeException error) {
        lines.add(String.join("\t", "fatal", "", "exception", clean(error.toString())));
      }
      for (String line : lines) {
        out.write(line);
        out.write('\n');
      }
      out.write("END\n");
      out.flush();
    }
  }

  private static String clean(String text) {
    return text == null ? "" : text.replaceAll("[\\t\\r\\n]+", " ");
  }
}
