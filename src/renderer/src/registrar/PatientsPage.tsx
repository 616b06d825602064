// «Пациенты»: the as-you-type search and «Новый пациент»; a row opens the patient card.
// The search text lives in the route, so coming back from a card shows the same results.
import { Button } from 'antd'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { useNav } from '../shell/navigation'
import { PatientSearch } from './PatientSearch'

export default function PatientsPage({ query }: { query: string }): ReactNode {
  const { t } = useTranslation()
  const nav = useNav()
  return (
    <section className="area" data-testid="patients-page">
      <div className="area__head">
        <h1 className="home__title">{t('registrar.patients.title')}</h1>
        <Button type="primary" size="large" data-testid="patient-new" onClick={() => nav.go({ area: 'patient', id: null, fix: null })}>
          {t('registrar.patients.new')}
        </Button>
      </div>
      <PatientSearch
        text={query}
        autoFocus
        onText={(text) => nav.replace({ area: 'patients', query: text })}
        onPick={(p) => nav.go({ area: 'patient', id: p.id, fix: null })}
      />
    </section>
  )
}
